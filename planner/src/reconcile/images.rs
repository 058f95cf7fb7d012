//! The image phase: which images to pull or build before containers are
//! created, following Docker Compose 2.40.3 (`pull.go mustPull`,
//! `build.go`). Only services with `image:` are pulled. A service with
//! `build:` is built when its image is missing or its pull policy is
//! `build`. When both a pull and a build are planned for a missing image,
//! a failed pull is ignored and the build runs only if the pull did not
//! bring the image, as Compose does.

use std::collections::BTreeMap;

use crate::container_spec::COMPOSE_VERSION;
use crate::engine_body::BuildBody;
use crate::model::{Build, PullPolicy, Service};
use crate::plan::{Action, Reason, ResourceChange, ResourceKind, StepAction};
use crate::snapshot::ObservedImage;

use super::clock::parse_rfc3339_nanos;
use super::containers::service_image;
use super::platform::platform_matches;
use super::{PlanError, Planner};

/// Prefix of the token that stands for an image's id at create time.
pub(crate) const IMAGE_ID_TOKEN: &str = "berth-image-id";

/// Dockerfile name under which the executor packs `dockerfile_inline`.
const INLINE_DOCKERFILE: &str = ".berth-dockerfile-inline";

/// The pull and build planned for one image reference.
#[derive(Default)]
struct ImageWork {
    /// The service that first asked for the reference, by name.
    service: String,
    pull: Option<Reason>,
    build: Option<(Reason, String)>,
    /// Whether a service of the reference has a `build:` section, so that
    /// a failed pull is ignored, as Compose does.
    buildable: bool,
}

/// A service whose image is missing and that neither pulls nor builds it,
/// which is an error unless another service's step makes the image.
struct Unmade {
    service: String,
    reference: String,
    error: PlanError,
}

impl Planner<'_> {
    /// Plans the pulls and builds of the selected services' images and
    /// records, per reference, the step that creates must wait for.
    pub(crate) fn plan_images(&mut self) -> Result<(), PlanError> {
        let mut work: BTreeMap<String, ImageWork> = BTreeMap::new();
        let mut unmade = Vec::new();
        let services = self.selection.services.clone();
        for (name, service) in &services {
            if service.provider.is_some() {
                continue;
            }
            let reference = service_image(&self.project.name, name, service);
            let policy = self.pull_policy(name, service)?;
            let present = self.local_image(&reference, service).is_some();
            let pull = if service.image.is_some() {
                self.pull_reason(name, service, &reference, policy)?
            } else {
                None
            };
            let build = match (&service.build, policy) {
                _ if self.options.no_build => None,
                (Some(_), PullPolicy::Build) => Some(Reason::BuildAlways),
                (Some(_), _) if !present => Some(self.absence_reason(&reference)),
                _ => None,
            };
            if pull.is_none() && build.is_none() && !present {
                let error = if self.options.no_build && service.build.is_some() {
                    PlanError::NoBuildImageMissing {
                        service: name.clone(),
                        image: reference.clone(),
                    }
                } else {
                    PlanError::ImageMissing {
                        service: name.clone(),
                        image: reference.clone(),
                        policy: policy.to_string(),
                    }
                };
                unmade.push(Unmade {
                    service: name.clone(),
                    reference: reference.clone(),
                    error,
                });
            }
            let entry = work.entry(reference).or_insert_with(|| ImageWork {
                service: name.clone(),
                ..ImageWork::default()
            });
            if entry.pull.is_none() {
                entry.pull = pull;
            }
            entry.buildable |= service.build.is_some();
            // NOTE: when several services build the same reference, the
            // first by name builds it; Compose builds each of them.
            if entry.build.is_none()
                && let Some(reason) = build
            {
                entry.build = Some((reason, name.clone()));
            }
        }
        // Another service's pull or build of the same reference makes the
        // image before the containers of this one are created.
        for missing in unmade {
            let made = work
                .get(&missing.reference)
                .is_some_and(|image| image.pull.is_some() || image.build.is_some());
            if !made {
                return Err(missing.error);
            }
            tracing::debug!(
                service = missing.service,
                image = missing.reference,
                "another service's step makes the image"
            );
        }
        for (reference, image) in work {
            self.add_image_steps(&reference, image)?;
        }
        Ok(())
    }

    /// Returns a service's pull policy as `docker compose up` applies its
    /// options: `--pull` replaces every service's `pull_policy`, then
    /// `--build` sets `build` on the services that have a `build:` section.
    fn pull_policy(&self, name: &str, service: &Service) -> Result<PullPolicy, PlanError> {
        if self.options.build && service.build.is_some() {
            return Ok(PullPolicy::Build);
        }
        let declared = self
            .options
            .pull
            .as_deref()
            .or(service.pull_policy.as_deref());
        PullPolicy::parse(declared).map_err(|message| PlanError::InvalidPullPolicy {
            service: name.to_string(),
            message,
        })
    }

    /// Returns why the image of a service with `image:` is pulled, if it
    /// is.
    fn pull_reason(
        &self,
        name: &str,
        service: &Service,
        reference: &str,
        policy: PullPolicy,
    ) -> Result<Option<Reason>, PlanError> {
        let observed = self.local_image(reference, service);
        let reason = match policy {
            PullPolicy::Always => Some(Reason::PullAlways),
            PullPolicy::Never | PullPolicy::Build => None,
            PullPolicy::Missing => observed.is_none().then(|| self.absence_reason(reference)),
            PullPolicy::Refresh { interval_nanos } => match observed {
                None => Some(self.absence_reason(reference)),
                Some(image) => {
                    let now = self
                        .snapshot
                        .observed_at
                        .as_deref()
                        .and_then(parse_rfc3339_nanos)
                        .ok_or_else(|| PlanError::MissingClock {
                            service: name.to_string(),
                        })?;
                    // An image the engine never tagged counts as tagged at
                    // Go's zero time, so it is always due, as in Compose.
                    let tagged = image.last_tag_time.as_deref().and_then(parse_rfc3339_nanos);
                    let due = tagged.is_none_or(|tagged| now > tagged + interval_nanos);
                    due.then_some(Reason::RefreshDue)
                }
            },
        };
        Ok(reason)
    }

    fn add_image_steps(&mut self, reference: &str, work: ImageWork) -> Result<(), PlanError> {
        let fallback = work.pull.is_some() && work.build.is_some();
        let mut last = None;
        let mut reasons = Vec::new();
        let mut action = Action::Pull;
        if let Some(reason) = work.pull {
            let platform = self.selection.services[&work.service].platform.clone();
            let id = self.steps.create_phase(
                format!("image.pull:{reference}"),
                Vec::new(),
                StepAction::PullImage {
                    image: reference.to_string(),
                    platform,
                    ignore_failure: work.buildable,
                },
            );
            reasons.push(reason);
            last = Some(id);
        }
        if let Some((reason, service_name)) = work.build {
            let service = &self.selection.services[&service_name];
            let build = service.build.as_ref().expect("a build is planned for it");
            let body = build_body(
                &self.project.name,
                &service_name,
                service,
                build,
                reference,
                fallback,
            )?;
            let id = self.steps.create_phase(
                format!("image.build:{reference}"),
                last.iter().cloned().collect(),
                StepAction::BuildImage {
                    image: reference.to_string(),
                    service: service_name,
                    build: Box::new(body),
                },
            );
            if !reasons.contains(&reason) {
                reasons.push(reason);
            }
            // With both, the change is the pull; the renderer names the
            // build that follows a failed pull from the steps.
            if !fallback {
                action = Action::Build;
            }
            last = Some(id);
        }
        let Some(last) = last else {
            return Ok(());
        };
        self.changes.push(ResourceChange {
            address: format!("image.{reference}"),
            kind: ResourceKind::Image,
            name: reference.to_string(),
            service: Some(work.service),
            action,
            reasons,
            diffs: Vec::new(),
            caused_by: Vec::new(),
        });
        self.image_steps.insert(reference.to_string(), last);
        Ok(())
    }

    /// Returns the local image of a reference. An image of another
    /// platform than the service's `platform` counts as missing, as in
    /// Compose, so that it is pulled or built for the right platform.
    fn local_image(&self, reference: &str, service: &Service) -> Option<&ObservedImage> {
        let image = self.snapshot.images.get(reference)?;
        match &service.platform {
            Some(platform) if !platform_matches(platform, &image.platform) => None,
            _ => Some(image),
        }
    }

    /// Returns why a reference without a usable local image lacks one.
    fn absence_reason(&self, reference: &str) -> Reason {
        if self.snapshot.images.contains_key(reference) {
            Reason::OtherPlatform
        } else {
            Reason::Missing
        }
    }

    /// Returns the image id a new container records: the observed id, or a
    /// token the executor resolves when a step of this plan pulls or
    /// builds the image.
    pub(crate) fn create_image_id(&self, reference: &str) -> Option<String> {
        if self.image_steps.contains_key(reference) {
            return Some(format!("{IMAGE_ID_TOKEN}({reference})"));
        }
        self.snapshot
            .images
            .get(reference)
            .map(|image| image.id.clone())
    }
}

/// Builds the engine request of a service's `build:` section, rejecting
/// the keys that berth does not send to the engine's build API.
fn build_body(
    project: &str,
    name: &str,
    service: &Service,
    build: &Build,
    reference: &str,
    only_if_missing: bool,
) -> Result<BuildBody, PlanError> {
    let unsupported = |key: &str| PlanError::BuildNotSupported {
        service: name.to_string(),
        key: key.to_string(),
    };
    let checks: [(&str, bool); 9] = [
        ("ssh", !build.ssh.is_empty()),
        ("secrets", !build.secrets.is_empty()),
        ("additional_contexts", !build.additional_contexts.is_empty()),
        ("cache_to", !build.cache_to.is_empty()),
        ("entitlements", !build.entitlements.is_empty()),
        ("privileged", build.privileged),
        ("ulimits", !build.ulimits.is_empty()),
        ("isolation", build.isolation.is_some()),
        ("platforms", build.platforms.len() > 1),
    ];
    if let Some((key, _)) = checks.iter().find(|(_, used)| *used) {
        return Err(unsupported(key));
    }

    let context = build.context.clone().unwrap_or_else(|| ".".to_string());
    if !context.starts_with('/') {
        return Err(PlanError::RemoteBuildContext {
            service: name.to_string(),
            context,
        });
    }

    let dockerfile = if build.dockerfile_inline.is_some() {
        INLINE_DOCKERFILE.to_string()
    } else {
        let dockerfile = build
            .dockerfile
            .clone()
            .unwrap_or_else(|| "Dockerfile".to_string());
        // A path inside the context is sent relative to it; any other
        // absolute path is read by the executor and packed into the tar.
        match dockerfile.strip_prefix(&format!("{}/", context.trim_end_matches('/'))) {
            Some(relative) => relative.to_string(),
            None => dockerfile,
        }
    };

    let mut tags = vec![reference.to_string()];
    for tag in &build.tags {
        if !tags.contains(tag) {
            tags.push(tag.clone());
        }
    }

    // The labels Compose 2.40.3 gives an image it builds with BuildKit, its
    // default, so that `docker compose down --rmi local` finds the image.
    let mut labels = build.labels.clone();
    for (key, value) in [
        ("project", project),
        ("service", name),
        ("version", COMPOSE_VERSION),
    ] {
        labels.insert(format!("com.docker.compose.{key}"), value.to_string());
    }

    let platform = build
        .platforms
        .first()
        .cloned()
        .or_else(|| service.platform.clone());
    Ok(BuildBody {
        context,
        dockerfile,
        dockerfile_inline: build.dockerfile_inline.clone(),
        tags,
        args: build
            .args
            .iter()
            .filter_map(|(key, value)| Some((key.clone(), value.clone()?)))
            .collect(),
        labels,
        target: build.target.clone(),
        network: build.network.clone(),
        extra_hosts: build.extra_hosts.clone(),
        cache_from: build.cache_from.clone(),
        shm_size: build.shm_size.map(|size| size.0),
        no_cache: build.no_cache,
        pull: build.pull,
        platform,
        only_if_missing,
    })
}
