//! Image steps: pulling an image and building one with the engine's
//! BuildKit, plus the lookup that resolves `berth-image-id(REF)` tokens in
//! container bodies.

use std::collections::HashMap;
use std::path::Path;

use berth_planner::engine_body::BuildBody;
use bollard::Docker;
use bollard::query_parameters::{
    BuildImageOptions, BuilderVersion, CreateImageOptions, TagImageOptions,
};
use futures_util::StreamExt;

use crate::build_context::pack_context;
use crate::build_progress::BuildProgress;
use crate::error::{StepError, status_of};
use crate::steps::StepOutcome;

/// Name under which a Dockerfile from outside the context is packed.
const OUTSIDE_DOCKERFILE: &str = ".berth-dockerfile";

/// Pulls `image`. With `ignore_failure`, a failure is logged and the step
/// succeeds, because the plan builds the image next.
///
/// NOTE: no registry credentials are sent, so a registry that requires a
/// login (`docker login`) rejects the pull.
pub(crate) async fn pull_image(
    docker: &Docker,
    image: &str,
    platform: Option<&str>,
    ignore_failure: bool,
) -> Result<StepOutcome, StepError> {
    let (from_image, tag) = split_tag(image);
    let options = CreateImageOptions {
        from_image: Some(from_image.to_owned()),
        tag: tag.map(str::to_owned),
        platform: platform.unwrap_or_default().to_owned(),
        ..Default::default()
    };
    let mut stream = docker.create_image(Some(options), None, None);
    let mut result = Ok(());
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(status) = info.status {
                    tracing::debug!(image, status, "pull progress");
                }
            }
            Err(error) => {
                result = Err(StepError::engine(format!("pull image `{image}`"), &error));
                break;
            }
        }
    }
    match result {
        Ok(()) => Ok(StepOutcome::Done),
        Err(error) if ignore_failure => {
            // Info, not warn, because the step's progress line reports it already.
            tracing::info!(image, %error, "pull failed; the plan builds the image instead");
            Ok(StepOutcome::Kept(format!(
                "the plan builds it instead: {error}"
            )))
        }
        Err(error) => Err(error),
    }
}

/// Splits `name:tag` at the tag's colon, which is the last one after the
/// last slash (a registry host may carry a port). A digest reference is
/// passed whole, as the engine takes it in `fromImage`.
fn split_tag(image: &str) -> (&str, Option<&str>) {
    if image.contains('@') {
        return (image, None);
    }
    let name_start = image.rfind('/').map_or(0, |slash| slash + 1);
    match image[name_start..].rfind(':') {
        Some(colon) => {
            let at = name_start + colon;
            (&image[..at], Some(&image[at + 1..]))
        }
        None => (image, Some("latest")),
    }
}

/// Builds the image of a build step, unless `only_if_missing` is set and
/// the image exists.
pub(crate) async fn build_image(
    docker: &Docker,
    image: &str,
    build: &BuildBody,
) -> Result<(), StepError> {
    if build.only_if_missing && image_id(docker, image).await?.is_some() {
        tracing::debug!(image, "the pull brought the image; skipping its build");
        return Ok(());
    }
    let context = Path::new(&build.context);
    let mut extra = Vec::new();
    let mut dockerfile = build.dockerfile.clone();
    if let Some(inline) = &build.dockerfile_inline {
        extra.push((dockerfile.clone(), inline.clone().into_bytes()));
    } else if Path::new(&dockerfile).is_absolute() {
        let contents = std::fs::read(&dockerfile).map_err(|error| StepError::BuildContext {
            path: dockerfile.clone(),
            message: error.to_string(),
        })?;
        extra.push((OUTSIDE_DOCKERFILE.to_owned(), contents));
        dockerfile = OUTSIDE_DOCKERFILE.to_owned();
    }
    let context_path = build.context.clone();
    let packed_dockerfile = dockerfile.clone();
    let tar = tokio::task::spawn_blocking({
        let context = context.to_path_buf();
        move || pack_context(&context, &packed_dockerfile, &extra)
    })
    .await
    .map_err(|error| StepError::BuildContext {
        path: context_path.clone(),
        message: error.to_string(),
    })?
    .map_err(|error| StepError::BuildContext {
        path: context_path.clone(),
        message: error.to_string(),
    })?;
    tracing::debug!(image, bytes = tar.len(), "packed the build context");

    let options = build_options(image, build, dockerfile)?;
    let mut stream = docker.build_image(options, None, Some(bollard::body_full(tar.into())));
    let mut progress = BuildProgress::new(image);
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => progress.record(&info),
            Err(error) => {
                let mut step = StepError::engine(format!("build image `{image}`"), &error);
                if let StepError::Engine { message, .. } = &mut step
                    && let Some(output) = progress.last_output()
                {
                    message.push_str(&format!(" (last output: {output})"));
                }
                return Err(step);
            }
        }
    }
    // bollard's build options take one tag, so the others are added after.
    for tag in build.tags.iter().skip(1) {
        let (repo, tag_name) = split_tag(tag);
        let options = TagImageOptions {
            repo: Some(repo.to_owned()),
            tag: tag_name.map(str::to_owned),
        };
        docker
            .tag_image(image, Some(options))
            .await
            .map_err(|error| {
                StepError::engine(format!("tag image `{image}` as `{tag}`"), &error)
            })?;
    }
    Ok(())
}

fn build_options(
    image: &str,
    build: &BuildBody,
    dockerfile: String,
) -> Result<BuildImageOptions, StepError> {
    let shmsize =
        build
            .shm_size
            .map(i32::try_from)
            .transpose()
            .map_err(|_| StepError::InvalidBody {
                subject: format!("build of image `{image}`"),
                message: "shm_size is larger than the build API accepts (2 GiB)".to_owned(),
            })?;
    // Compose's model keeps `host=ip`; the build API takes `host:ip`.
    let extra_hosts: Vec<String> = build
        .extra_hosts
        .iter()
        .map(|entry| entry.replacen('=', ":", 1))
        .collect();
    Ok(BuildImageOptions {
        // BuildKit, which Docker Compose 2.40.3 uses too, so that the
        // image matches Compose's: the corpus's build cases get the same
        // image id. The context goes in the request body, so no client
        // session is needed. The plan rejects what needs one (`ssh`,
        // `secrets`).
        version: BuilderVersion::BuilderBuildKit,
        dockerfile,
        t: Some(image.to_owned()),
        extrahosts: (!extra_hosts.is_empty()).then(|| extra_hosts.join(",")),
        nocache: build.no_cache,
        cachefrom: (!build.cache_from.is_empty()).then(|| build.cache_from.clone()),
        pull: build.pull.then(|| "1".to_owned()),
        buildargs: (!build.args.is_empty())
            .then(|| build.args.clone().into_iter().collect::<HashMap<_, _>>()),
        shmsize,
        labels: (!build.labels.is_empty())
            .then(|| build.labels.clone().into_iter().collect::<HashMap<_, _>>()),
        networkmode: build.network.clone(),
        platform: build.platform.clone().unwrap_or_default(),
        target: build.target.clone().unwrap_or_default(),
        ..Default::default()
    })
}

/// Returns the id of a local image, or `None` when the engine does not
/// have it.
pub(crate) async fn image_id(docker: &Docker, image: &str) -> Result<Option<String>, StepError> {
    match docker.inspect_image(image).await {
        Ok(inspect) => Ok(inspect.id),
        Err(error) if status_of(&error) == Some(404) => Ok(None),
        Err(error) => Err(StepError::engine(
            format!("inspect image `{image}`"),
            &error,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_tag_handles_registry_ports() {
        assert_eq!(split_tag("busybox"), ("busybox", Some("latest")));
        assert_eq!(
            split_tag("local/busybox:test"),
            ("local/busybox", Some("test"))
        );
        assert_eq!(
            split_tag("127.0.0.1:5000/app"),
            ("127.0.0.1:5000/app", Some("latest"))
        );
        assert_eq!(
            split_tag("127.0.0.1:5000/app:1.0"),
            ("127.0.0.1:5000/app", Some("1.0"))
        );
        assert_eq!(split_tag("app@sha256:abc"), ("app@sha256:abc", None));
    }
}
