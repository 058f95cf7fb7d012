//! One engine call per step, made exactly as the plan wrote it. A step
//! that names a container by id acts on that id, so a container replaced
//! behind the plan's back is reported instead of acted on by name.

use std::path::Path;
use std::time::Duration;

use berth_planner::content::ContentFile;
use berth_planner::engine_body::ContainerBody;
use berth_planner::plan::{ContainerRef, ServiceHooks, StepAction};
use bollard::models::{
    ContainerCreateBody, EndpointSettings, NetworkConnectRequest, NetworkCreateRequest,
    NetworkDisconnectRequest, VolumeCreateRequest,
};
use bollard::query_parameters::{
    InspectNetworkOptions, RemoveContainerOptions, RemoveImageOptions, RemoveVolumeOptions,
    RenameContainerOptions, StartContainerOptions, StopContainerOptions, UploadToContainerOptions,
};

use bollard::{ClientVersion, Docker};

use crate::container_mac::{check_api_version, create_container};
use crate::content::{read_content, tar_archive};
use crate::create::{convert_body, prepare_body};
use crate::error::{StepError, status_of};
use crate::hook::{HookPhase, run_hooks};
use crate::image::{build_image, pull_image};
use crate::wait::wait;

/// Time a stop request may take beyond the container's stop timeout.
const STOP_MARGIN: Duration = Duration::from_secs(60);

/// Converts the engine body of a step to bollard's model without sending
/// it, so that a body the client cannot send fails the apply before any
/// step has changed the engine. Id tokens stay unresolved: they are
/// strings either way. A container-level MAC address is sent beside the
/// model, and only engines of `api_version` below 1.44 accept it.
pub(crate) fn check_body(
    action: &StepAction,
    api_version: &ClientVersion,
) -> Result<(), StepError> {
    match action {
        StepAction::CreateNetwork { name, body } => {
            convert_body::<NetworkCreateRequest>(&format!("network `{name}`"), body).map(drop)
        }
        StepAction::CreateVolume { name, body } => {
            convert_body::<VolumeCreateRequest>(&format!("volume `{name}`"), body).map(drop)
        }
        StepAction::CreateContainer { name, body, .. } => {
            if let Some(mac_address) = &body.mac_address {
                check_api_version(name, mac_address, api_version)?;
            }
            let model_fields = ContainerBody {
                mac_address: None,
                ..body.as_ref().clone()
            };
            convert_body::<ContainerCreateBody>(&format!("container `{name}`"), &model_fields)
                .map(drop)
        }
        StepAction::ConnectNetwork {
            container,
            network,
            endpoint,
        } => {
            let subject = format!("endpoint of `{container}` on network `{network}`");
            convert_body::<EndpointSettings>(&subject, endpoint).map(drop)
        }
        StepAction::StartContainer {
            post_start: Some(hooks),
            ..
        } => check_hooks(hooks, "post_start"),
        StepAction::StopContainer {
            pre_stop: Some(hooks),
            ..
        } => check_hooks(hooks, "pre_stop"),
        // A context that is gone fails here, before any step has run,
        // rather than after the steps before the build.
        StepAction::BuildImage { build, .. } if !Path::new(&build.context).is_dir() => {
            Err(StepError::BuildContext {
                path: build.context.clone(),
                message: "not a folder".to_owned(),
            })
        }
        _ => Ok(()),
    }
}

/// Rejects a hook without a command, which the engine would reject only
/// after the steps before it changed the project.
fn check_hooks(hooks: &ServiceHooks, key: &str) -> Result<(), StepError> {
    match hooks.hooks.iter().position(|hook| hook.command.is_empty()) {
        Some(index) => Err(StepError::InvalidBody {
            subject: format!("{key}[{index}] hook of service `{}`", hooks.service),
            message: "the command is empty (give the hook a `command`)".to_owned(),
        }),
        None => Ok(()),
    }
}

/// The end of a step that did not fail.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum StepOutcome {
    /// The engine made the change.
    Done,
    /// The engine kept things as they were, for the reason given, and the
    /// apply goes on: an image removal rejected because the image is in
    /// use, or a pull that failed where the plan builds the image next.
    Kept(String),
}

/// Runs one step against the engine.
pub(crate) async fn run_step(
    docker: &Docker,
    action: &StepAction,
) -> Result<StepOutcome, StepError> {
    let result = match action {
        StepAction::CreateNetwork { name, body } => create_network(docker, name, body).await,
        StepAction::RemoveNetwork { name, id } => docker
            .remove_network(id)
            .await
            .map_err(|error| StepError::engine(format!("remove network `{name}`"), &error)),
        StepAction::ConnectNetwork {
            container,
            network,
            endpoint,
        } => {
            let subject = format!("endpoint of `{container}` on network `{network}`");
            let endpoint: EndpointSettings = convert_body(&subject, endpoint)?;
            let request = NetworkConnectRequest {
                container: container.clone(),
                endpoint_config: Some(endpoint),
            };
            docker
                .connect_network(network, request)
                .await
                .map_err(|error| {
                    let action = format!("connect container `{container}` to network `{network}`");
                    StepError::engine(action, &error)
                })
        }
        StepAction::DisconnectNetwork { container, network } => {
            let request = NetworkDisconnectRequest {
                container: container.clone(),
                force: None,
            };
            docker
                .disconnect_network(network, request)
                .await
                .map_err(|error| {
                    let action =
                        format!("disconnect container `{container}` from network `{network}`");
                    StepError::engine(action, &error)
                })
        }
        StepAction::CreateVolume { name, body } => {
            let request: VolumeCreateRequest = convert_body(&format!("volume `{name}`"), body)?;
            docker
                .create_volume(request)
                .await
                .map(|_| ())
                .map_err(|error| StepError::engine(format!("create volume `{name}`"), &error))
        }
        StepAction::RemoveVolume { name } => docker
            .remove_volume(name, None::<RemoveVolumeOptions>)
            .await
            .map_err(|error| StepError::engine(format!("remove volume `{name}`"), &error)),
        StepAction::CreateContainer {
            name,
            body,
            hash_input,
        } => {
            let prepared = prepare_body(docker, name, body, hash_input.as_ref()).await?;
            let created =
                create_container(docker, name, prepared.body, prepared.mac_address.as_deref())
                    .await?;
            tracing::debug!(name, id = created.id, "created a container");
            Ok(())
        }
        StepAction::StartContainer {
            container,
            post_start,
        } => {
            let result = docker
                .start_container(target(container), None::<StartContainerOptions>)
                .await;
            on_container(container, "start", result)?;
            match post_start {
                Some(hooks) => run_hooks(docker, container, hooks, HookPhase::PostStart).await,
                None => Ok(()),
            }
        }
        StepAction::StopContainer {
            container,
            timeout_seconds,
            pre_stop,
        } => {
            if let Some(hooks) = pre_stop {
                run_hooks(docker, container, hooks, HookPhase::PreStop).await?;
            }
            let t = timeout_seconds.map(|seconds| i32::try_from(seconds).unwrap_or(i32::MAX));
            let options = StopContainerOptions { t, signal: None };
            // The request lasts as long as the stop timeout, which may be
            // longer than the client's default request timeout.
            let grace = Duration::from_secs(t.map_or(0, |t| t.max(0).unsigned_abs().into()));
            let docker = docker
                .clone()
                .with_timeout(docker.timeout().max(grace + STOP_MARGIN));
            let result = docker
                .stop_container(target(container), Some(options))
                .await;
            on_container(container, "stop", result)
        }
        StepAction::RemoveContainer {
            container,
            remove_volumes,
        } => {
            // Never forced: the plan stops a container before removing it,
            // and a running one here means the plan no longer fits.
            let options = RemoveContainerOptions {
                v: *remove_volumes,
                force: false,
                link: false,
            };
            let result = docker
                .remove_container(target(container), Some(options))
                .await;
            on_container(container, "remove", result)
        }
        StepAction::RenameContainer { container, to } => {
            let options = RenameContainerOptions { name: to.clone() };
            let result = docker.rename_container(target(container), options).await;
            on_container(container, &format!("rename to `{to}`"), result)
        }
        StepAction::UnpauseContainer { container } => {
            let result = docker.unpause_container(target(container)).await;
            on_container(container, "unpause", result)
        }
        StepAction::PullImage {
            image,
            platform,
            ignore_failure,
        } => return pull_image(docker, image, platform.as_deref(), *ignore_failure).await,
        StepAction::BuildImage { image, build, .. } => build_image(docker, image, build).await,
        StepAction::Wait {
            service,
            containers,
            condition,
            timeout_seconds,
        } => wait(docker, service, containers, *condition, *timeout_seconds).await,
        StepAction::CopyContent { container, files } => {
            copy_content(docker, container, files).await
        }
        StepAction::RemoveImage { name } => return remove_image(docker, name).await,
    };
    result.map(|()| StepOutcome::Done)
}

/// Copies secrets and configs into a container as one tar archive
/// extracted at `/`, keeping the owner the archive gives, as Docker
/// Compose 2.40.3 does before each start.
async fn copy_content(
    docker: &Docker,
    container: &ContainerRef,
    files: &[ContentFile],
) -> Result<(), StepError> {
    let mut entries = Vec::new();
    for file in files {
        let content = read_content(&container.name, file)
            .map_err(|error| StepError::ContentChanged(error.to_string()))?;
        entries.push((file, content));
    }
    let archive = tar_archive(&entries).map_err(|message| StepError::InvalidBody {
        subject: format!("content of container `{}`", container.name),
        message,
    })?;
    let options = UploadToContainerOptions {
        path: "/".to_owned(),
        copy_uidgid: Some("true".to_owned()),
        ..Default::default()
    };
    let result = docker
        .upload_to_container(
            target(container),
            Some(options),
            bollard::body_full(archive.into()),
        )
        .await;
    on_container(container, "copy content into", result)
}

/// Removes an image without force. An image that another container still
/// uses (409) is kept with a warning, as `docker compose down --rmi`
/// does; one already gone (404) counts as removed.
async fn remove_image(docker: &Docker, name: &str) -> Result<StepOutcome, StepError> {
    let options = RemoveImageOptions {
        force: false,
        noprune: false,
        platforms: None,
    };
    match docker.remove_image(name, Some(options), None).await {
        Ok(_) => Ok(StepOutcome::Done),
        Err(error) => match status_of(&error) {
            Some(404) => Ok(StepOutcome::Done),
            Some(409) => {
                let (_, message) = crate::error::engine_message(&error);
                // Info, not warn, because the step's progress line reports it already.
                tracing::info!(
                    image = name,
                    "image kept because it is still in use: {message}"
                );
                Ok(StepOutcome::Kept(format!("still in use: {message}")))
            }
            _ => Err(StepError::engine(format!("remove image `{name}`"), &error)),
        },
    }
}

/// Returns what the engine acts on: the recorded id when there is one.
pub(crate) fn target(container: &ContainerRef) -> &str {
    container.id.as_deref().unwrap_or(&container.name)
}

/// Maps the result of a call on a container, reporting a 404 on a
/// recorded id as the container being gone.
fn on_container(
    container: &ContainerRef,
    verb: &str,
    result: Result<(), bollard::errors::Error>,
) -> Result<(), StepError> {
    result.map_err(|error| match (&container.id, status_of(&error)) {
        (Some(id), Some(404)) => StepError::ContainerGone {
            name: container.name.clone(),
            id: id.clone(),
        },
        _ => StepError::engine(format!("{verb} container `{}`", container.name), &error),
    })
}

async fn create_network(
    docker: &Docker,
    name: &str,
    body: &berth_planner::engine_body::NetworkBody,
) -> Result<(), StepError> {
    let request: NetworkCreateRequest = convert_body(&format!("network `{name}`"), body)?;
    // Engines before API 1.44 create a second network of the same name
    // unless asked to check, and bollard's model no longer carries that
    // flag. So a clash is looked for first, by exact name.
    match docker
        .inspect_network(name, None::<InspectNetworkOptions>)
        .await
    {
        Ok(existing) if existing.name.as_deref() == Some(name) => {
            return Err(StepError::NetworkExists {
                name: name.to_owned(),
                message: String::new(),
            });
        }
        Ok(_) => {}
        Err(error) if status_of(&error) == Some(404) => {}
        Err(error) => {
            return Err(StepError::engine(
                format!("inspect network `{name}`"),
                &error,
            ));
        }
    }
    match docker.create_network(request).await {
        Ok(created) => {
            tracing::debug!(name, id = created.id, "created a network");
            Ok(())
        }
        Err(error) if status_of(&error) == Some(409) => Err(StepError::NetworkExists {
            name: name.to_owned(),
            message: crate::error::engine_message(&error).1,
        }),
        Err(error) => Err(StepError::engine(
            format!("create network `{name}`"),
            &error,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const API_1_41: ClientVersion = ClientVersion {
        major_version: 1,
        minor_version: 41,
    };

    fn create(body: ContainerBody) -> StepAction {
        StepAction::CreateContainer {
            name: "p-web-1".to_owned(),
            body: Box::new(body),
            hash_input: None,
        }
    }

    #[test]
    fn check_body_accepts_plain_container() {
        let body = ContainerBody {
            image: "local/busybox:test".to_owned(),
            ..ContainerBody::default()
        };
        assert!(check_body(&create(body), &API_1_41).is_ok());
    }

    #[test]
    fn check_body_rejects_missing_build_context() {
        let action = StepAction::BuildImage {
            image: "p-app".to_owned(),
            service: "app".to_owned(),
            build: Box::new(berth_planner::engine_body::BuildBody {
                context: "/nonexistent/berth-context".to_owned(),
                dockerfile: "Dockerfile".to_owned(),
                ..Default::default()
            }),
        };
        let error = check_body(&action, &API_1_41).unwrap_err().to_string();
        assert!(error.contains("/nonexistent/berth-context"), "{error}");
    }

    #[test]
    fn check_body_container_mac_by_api() {
        let body = ContainerBody {
            image: "local/busybox:test".to_owned(),
            mac_address: Some("02:42:ac:11:00:02".to_owned()),
            ..ContainerBody::default()
        };
        assert!(check_body(&create(body.clone()), &API_1_41).is_ok());

        let api_1_44 = ClientVersion {
            major_version: 1,
            minor_version: 44,
        };
        let error = check_body(&create(body), &api_1_44)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("`MacAddress` `02:42:ac:11:00:02`"),
            "{error}"
        );
    }

    #[test]
    fn check_body_rejects_hook_without_command() {
        let hooks = ServiceHooks {
            service: "app".to_owned(),
            hooks: vec![
                berth_planner::plan::Hook {
                    command: vec!["true".to_owned()],
                    ..Default::default()
                },
                berth_planner::plan::Hook::default(),
            ],
        };
        let action = StepAction::StartContainer {
            container: ContainerRef {
                name: "p-app-1".to_owned(),
                id: None,
            },
            post_start: Some(hooks),
        };
        let error = check_body(&action, &API_1_41).unwrap_err().to_string();
        assert!(
            error.contains("post_start[1] hook of service `app`"),
            "{error}"
        );
        assert!(error.contains("the command is empty"), "{error}");
    }
}
