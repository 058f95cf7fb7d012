//! Service fields that Docker Compose accepts but never sends to the
//! engine. berth sends nothing for them either, and warns in the plan
//! instead of leaving the reviewer to believe they apply.

use crate::plan::Warning;

use super::Planner;

impl Planner<'_> {
    /// Warns about each selected service that sets `credential_spec`, the
    /// gMSA identity of a Windows container. Docker Compose 2.40.3 leaves
    /// it out of the create request, and a Linux engine rejects the
    /// `credentialspec` security option that would carry it.
    pub(crate) fn warn_credential_specs(&mut self) {
        for (name, service) in &self.selection.services {
            if service.credential_spec.is_none() {
                continue;
            }
            let file = service
                .compose_file
                .as_deref()
                .unwrap_or("the compose file");
            self.warnings.push(Warning {
                code: "credential_spec_ignored".into(),
                message: format!(
                    "{file}: services.{name}.credential_spec has no effect: the container runs without that Windows identity, as with Docker Compose, which never sends it; remove the key to silence this warning"
                ),
            });
        }
    }
}
