//! Matching a service's `platform` against a local image's, as Docker
//! Compose 2.40.3 does before it decides to pull or build: a local image
//! of another platform counts as missing. Both sides are normalized the
//! way containerd's `platforms` package does (`x86_64` is `amd64`,
//! `aarch64` is `arm64`, `arm` defaults to variant `v7`, `arm64/v8` is
//! plain `arm64`).

/// Checks whether an image of platform `image` (`os/architecture[/variant]`)
/// suits a service whose `platform` is `requested`. An image whose
/// platform the engine does not report matches, since nothing contradicts
/// it.
pub(crate) fn platform_matches(requested: &str, image: &str) -> bool {
    if image.is_empty() {
        return true;
    }
    match (normalize(requested), normalize(image)) {
        (Some(requested), Some(image)) => requested == image,
        _ => false,
    }
}

/// Splits and normalizes `os/architecture[/variant]`.
fn normalize(platform: &str) -> Option<(String, String, String)> {
    let lower = platform.to_ascii_lowercase();
    let mut parts = lower.split('/');
    let os = parts.next().filter(|os| !os.is_empty())?.to_string();
    let architecture = parts.next().unwrap_or_default();
    let variant = parts.next().unwrap_or_default();
    let (architecture, variant) = match (architecture, variant) {
        ("x86_64" | "x86-64" | "amd64", variant) => ("amd64", variant),
        ("i386" | "386", _) => ("386", ""),
        ("aarch64" | "arm64", "v8" | "8") => ("arm64", ""),
        ("aarch64" | "arm64", variant) => ("arm64", variant),
        ("armhf", _) => ("arm", "v7"),
        ("armel", _) => ("arm", "v6"),
        ("arm", "") => ("arm", "v7"),
        ("arm", "5" | "6" | "7" | "8") => ("arm", variant),
        (architecture, variant) => (architecture, variant),
    };
    let variant = match (architecture, variant) {
        ("arm", "5" | "6" | "7" | "8") => format!("v{variant}"),
        _ => variant.to_string(),
    };
    Some((os, architecture.to_string(), variant))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_match() {
        assert!(platform_matches("linux/x86_64", "linux/amd64"));
        assert!(platform_matches("linux/arm64/v8", "linux/arm64"));
        assert!(platform_matches("linux/arm", "linux/arm/v7"));
        assert!(platform_matches("linux/armhf", "linux/arm/v7"));
        assert!(platform_matches("Linux/AMD64", "linux/amd64"));
    }

    #[test]
    fn other_platforms_do_not_match() {
        assert!(!platform_matches("linux/arm64", "linux/amd64"));
        assert!(!platform_matches("linux/arm/v6", "linux/arm/v7"));
        assert!(!platform_matches("windows/amd64", "linux/amd64"));
    }

    #[test]
    fn unknown_image_platform_matches() {
        assert!(platform_matches("linux/arm64", ""));
    }
}
