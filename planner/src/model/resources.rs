//! Resource settings of a service: sizes, CPU shares, ulimits, block I/O,
//! devices and `deploy.resources`, in the shapes Compose prints them.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::GoDuration;

/// A byte count that Compose prints as a decimal string (`"268435456"`),
/// as it does for `mem_limit`, `shm_size` and even `mem_swappiness`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema)]
#[schemars(with = "String")]
pub struct ByteCount(pub i64);

impl Serialize for ByteCount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for ByteCount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse()
            .map(ByteCount)
            .map_err(|_| serde::de::Error::custom(format!("invalid byte count {text:?}")))
    }
}

/// A `float32` of compose-go (`cpus`, `cpu_percent`), printed the way Go
/// prints it: shortest form, `2` rather than `2.0`. The text is hashed.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd, JsonSchema)]
#[schemars(with = "f64")]
pub struct GoFloat(pub f32);

impl GoFloat {
    /// Reports whether the value is zero, which Compose omits.
    pub fn is_zero(&self) -> bool {
        self.0 == 0.0
    }
}

impl Serialize for GoFloat {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let value = self.0;
        if value.fract() == 0.0 && value.abs() < 1e15 {
            return serializer.serialize_i64(value as i64);
        }
        // Through the shortest `f32` text, so that 0.1 prints as 0.1 and not
        // as the `f64` widening of the `f32` nearest to it.
        let widened: f64 = value.to_string().parse().unwrap_or(f64::from(value));
        serializer.serialize_f64(widened)
    }
}

impl<'de> Deserialize<'de> for GoFloat {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(GoFloat(f64::deserialize(deserializer)? as f32))
    }
}

/// One `ulimits` entry. A single number sets both limits, and Compose then
/// prints that number alone. Otherwise it prints `{"soft":..,"hard":..}`
/// without zeros, so `core: 0` prints as `{}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub struct Ulimit {
    pub single: i64,
    pub soft: i64,
    pub hard: i64,
}

impl Ulimit {
    /// Returns the soft and hard limits the engine receives.
    pub fn limits(&self) -> (i64, i64) {
        if self.single != 0 {
            (self.single, self.single)
        } else {
            (self.soft, self.hard)
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct UlimitPair {
    #[serde(default, skip_serializing_if = "is_zero")]
    soft: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    hard: i64,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum UlimitForm {
    Single(i64),
    Pair(UlimitPair),
}

impl Serialize for Ulimit {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.single != 0 {
            return serializer.serialize_i64(self.single);
        }
        UlimitPair {
            soft: self.soft,
            hard: self.hard,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Ulimit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match UlimitForm::deserialize(deserializer)? {
            UlimitForm::Single(single) => Ulimit {
                single,
                ..Ulimit::default()
            },
            UlimitForm::Pair(pair) => Ulimit {
                single: 0,
                soft: pair.soft,
                hard: pair.hard,
            },
        })
    }
}

pub(super) fn is_zero(value: &i64) -> bool {
    *value == 0
}

/// `logging`: the driver and its options as strings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Logging {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

/// `blkio_config`. The device entries keep compose-go's capitalised keys.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BlkioConfig {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub weight: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weight_device: Vec<WeightDevice>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub device_read_bps: Vec<ThrottleDevice>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub device_read_iops: Vec<ThrottleDevice>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub device_write_bps: Vec<ThrottleDevice>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub device_write_iops: Vec<ThrottleDevice>,
}

/// A device and its relative block I/O weight.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct WeightDevice {
    pub path: String,
    pub weight: i64,
}

/// A device and a rate limit, in bytes or operations per second.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ThrottleDevice {
    pub path: String,
    pub rate: ByteCount,
}

/// One `devices` entry. The short form `src[:dst[:perms]]` gets `rwm`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceMapping {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<String>,
}

/// A device request (`gpus`, `deploy.resources.reservations.devices`).
/// A count of -1 means all devices.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceRequest {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub count: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub device_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

/// `deploy.resources`. Compose always prints the object, even empty.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeployResources {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<Resource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservations: Option<Resource>,
}

/// Limits or reservations of `deploy.resources`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    #[serde(default, skip_serializing_if = "GoFloat::is_zero")]
    pub cpus: GoFloat,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<ByteCount>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pids: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<DeviceRequest>,
}

/// `deploy.restart_policy`, which overrides `restart` on the engine.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RestartPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<GoDuration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<GoDuration>,
}
