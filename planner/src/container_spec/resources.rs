//! `HostConfig` resource fields: memory, CPU, PIDs, block I/O, devices,
//! device requests and ulimits, with `deploy.resources` applied over the
//! service-level settings as Compose applies them.

use crate::engine_body::{
    DeviceMappingBody, DeviceRequestBody, HostConfigBody, ThrottleDeviceBody, UlimitBody,
    WeightDeviceBody,
};
use crate::model::{DeviceRequest, GoFloat, Service, ThrottleDevice};

/// Fills the resource fields of `host`. Zero values stay unset, which the
/// engine reads as "no limit", as it reads the zeros Compose sends.
pub(super) fn apply(service: &Service, host: &mut HostConfigBody) {
    let bytes = |value: Option<crate::model::ByteCount>| value.map_or(0, |b| b.0);
    host.cgroup_parent = service.cgroup_parent.clone();
    host.memory = bytes(service.mem_limit);
    host.memory_swap = bytes(service.memswap_limit);
    host.memory_swappiness = service.mem_swappiness.map(|b| b.0).filter(|v| *v != 0);
    host.memory_reservation = bytes(service.mem_reservation);
    host.oom_kill_disable = service.oom_kill_disable.then_some(true);
    host.cpu_count = service.cpu_count;
    host.cpu_percent = (service.cpu_percent.0 * 100.0) as i64;
    host.cpu_period = service.cpu_period;
    host.cpu_quota = service.cpu_quota;
    host.cpu_realtime_period = service.cpu_rt_period;
    host.cpu_realtime_runtime = service.cpu_rt_runtime;
    host.cpu_shares = service.cpu_shares;
    host.nano_cpus = nano_cpus(service.cpus);
    host.cpuset_cpus = service.cpuset.clone();
    host.device_cgroup_rules = service.device_cgroup_rules.clone();
    host.pids_limit = (service.pids_limit != 0).then_some(service.pids_limit);

    if let Some(blkio) = &service.blkio_config {
        host.blkio_weight = blkio.weight;
        host.blkio_weight_device = blkio
            .weight_device
            .iter()
            .map(|device| WeightDeviceBody {
                path: device.path.clone(),
                weight: device.weight,
            })
            .collect();
        host.blkio_device_read_bps = throttles(&blkio.device_read_bps);
        host.blkio_device_read_iops = throttles(&blkio.device_read_iops);
        host.blkio_device_write_bps = throttles(&blkio.device_write_bps);
        host.blkio_device_write_iops = throttles(&blkio.device_write_iops);
    }

    let deploy = service.deploy.as_ref().map(|d| &d.resources);
    if let Some(limits) = deploy.and_then(|r| r.limits.as_ref()) {
        if let Some(memory) = limits.memory.filter(|m| m.0 != 0) {
            host.memory = memory.0;
        }
        if !limits.cpus.is_zero() {
            host.nano_cpus = nano_cpus(limits.cpus);
        }
        if limits.pids > 0 {
            host.pids_limit = Some(limits.pids);
        }
    }
    // A CPU reservation is a swarm setting, and PIDs have no reservation.
    if let Some(reservations) = deploy.and_then(|r| r.reservations.as_ref()) {
        if let Some(memory) = reservations.memory.filter(|m| m.0 > 0) {
            host.memory_reservation = memory.0;
        }
        host.device_requests
            .extend(reservations.devices.iter().map(|d| request(d, false)));
    }

    devices(service, host);
    host.device_requests
        .extend(service.gpus.iter().map(|d| request(d, true)));
    host.ulimits = service
        .ulimits
        .iter()
        .map(|(name, limit)| {
            let (soft, hard) = limit.limits();
            UlimitBody {
                name: name.clone(),
                soft,
                hard,
            }
        })
        .collect();
}

/// Converts CPUs to billionths the way Compose does, in `float32`
/// arithmetic, truncated.
fn nano_cpus(cpus: GoFloat) -> i64 {
    (cpus.0 * 1e9_f32) as i64
}

fn throttles(devices: &[ThrottleDevice]) -> Vec<ThrottleDeviceBody> {
    devices
        .iter()
        .map(|device| ThrottleDeviceBody {
            path: device.path.clone(),
            rate: device.rate.0,
        })
        .collect()
}

/// Maps `devices`. An entry whose source is its own target and a
/// qualified CDI name (`vendor.com/class=name`) is a CDI device, which
/// the engine takes as a device request instead.
fn devices(service: &Service, host: &mut HostConfigBody) {
    let mut cdi_names = Vec::new();
    for device in &service.devices {
        let source = device.source.clone().unwrap_or_default();
        let target = device.target.clone().unwrap_or_default();
        if source == target && is_cdi_name(&source) {
            cdi_names.push(source);
            continue;
        }
        host.devices.push(DeviceMappingBody {
            path_on_host: source,
            path_in_container: target,
            cgroup_permissions: device.permissions.clone().unwrap_or_default(),
        });
    }
    if !cdi_names.is_empty() {
        host.device_requests.push(DeviceRequestBody {
            driver: "cdi".to_owned(),
            device_ids: cdi_names,
            ..DeviceRequestBody::default()
        });
    }
}

/// Reports whether `name` has the form `vendor/class=device`, vendor and
/// class made of letters, digits, `-`, `_` and `.`.
fn is_cdi_name(name: &str) -> bool {
    let Some((kind, device)) = name.split_once('=') else {
        return false;
    };
    let Some((vendor, class)) = kind.split_once('/') else {
        return false;
    };
    let word = |text: &str| {
        !text.is_empty()
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    word(vendor) && word(class) && !device.is_empty()
}

/// Builds a device request. A `gpus` entry also requests the `gpu`
/// capability.
fn request(device: &DeviceRequest, gpu: bool) -> DeviceRequestBody {
    let mut capabilities = device.capabilities.clone();
    if gpu {
        capabilities.push("gpu".to_owned());
    }
    DeviceRequestBody {
        driver: device.driver.clone().unwrap_or_default(),
        count: device.count,
        device_ids: device.device_ids.clone(),
        capabilities: vec![capabilities],
        options: device.options.clone(),
    }
}
