//! Dependency order of services.
//!
//! Docker Compose walks the `depends_on` graph with unbounded parallelism;
//! a plan needs one fixed order instead, so services at the same depth are
//! taken by name.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::Service;

/// Returns service names so that every service comes after the services it
/// depends on; ties are broken by name. Dependencies outside `services` are
/// ignored (the selection pruned them).
pub(crate) fn dependency_order(services: &BTreeMap<String, Service>) -> Vec<String> {
    let mut placed: BTreeSet<&str> = BTreeSet::new();
    let mut order = Vec::with_capacity(services.len());
    while order.len() < services.len() {
        let ready: Vec<&str> = services
            .iter()
            .filter(|(name, _)| !placed.contains(name.as_str()))
            .filter(|(_, service)| {
                service
                    .depends_on
                    .keys()
                    .all(|dep| placed.contains(dep.as_str()) || !services.contains_key(dep))
            })
            .map(|(name, _)| name.as_str())
            .collect();
        if ready.is_empty() {
            // The loader rejects cycles; place the rest by name rather than
            // loop forever if one slipped through.
            let rest: Vec<&str> = services
                .keys()
                .map(String::as_str)
                .filter(|name| !placed.contains(name))
                .collect();
            for name in rest {
                placed.insert(name);
                order.push(name.to_string());
            }
            break;
        }
        for name in ready {
            placed.insert(name);
            order.push(name.to_string());
        }
    }
    order
}

/// Services that depend on `service` with `restart: true`, directly.
pub(crate) fn restart_dependents<'a>(
    services: &'a BTreeMap<String, Service>,
    service: &str,
) -> Vec<&'a str> {
    services
        .iter()
        .filter(|(_, candidate)| {
            candidate
                .depends_on
                .get(service)
                .is_some_and(|dependency| dependency.restart)
        })
        .map(|(name, _)| name.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DependsOn;

    fn service(deps: &[&str]) -> Service {
        let mut service = Service::default();
        for dep in deps {
            service.depends_on.insert(
                dep.to_string(),
                DependsOn {
                    condition: crate::model::CONDITION_STARTED.into(),
                    restart: false,
                    required: true,
                },
            );
        }
        service
    }

    #[test]
    fn dependencies_come_first() {
        let mut services = BTreeMap::new();
        services.insert("web".to_string(), service(&["db", "cache"]));
        services.insert("db".to_string(), service(&[]));
        services.insert("cache".to_string(), service(&["db"]));
        services.insert("admin".to_string(), service(&[]));
        assert_eq!(
            dependency_order(&services),
            vec!["admin", "db", "cache", "web"]
        );
    }
}
