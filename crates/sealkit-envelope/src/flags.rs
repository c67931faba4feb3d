//! Feature flags such as `DATA_AT_REST_ENCRYPTION_ENABLED`.

use crate::registry::{EnvLookup, ProcessEnv};

/// `1`, `true`, `yes`, `on` (trimmed, case-insensitive) mean enabled; anything else, or unset,
/// means disabled.
pub fn is_enabled(value: Option<&str>) -> bool {
    value.is_some_and(|v| {
        let v = crate::registry::js_trim(v);
        ["1", "true", "yes", "on"]
            .iter()
            .any(|accepted| v.eq_ignore_ascii_case(accepted))
    })
}

/// Reads a flag from the process environment.
pub fn env_flag(name: &str) -> bool {
    env_flag_lookup(name, &ProcessEnv)
}

/// Reads a flag from an injected environment.
pub fn env_flag_lookup(name: &str, env: &dyn EnvLookup) -> bool {
    is_enabled(env.get(name).as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_values() {
        for v in ["1", "true", "TRUE", " Yes ", "on", "On\n"] {
            assert!(is_enabled(Some(v)), "{v:?}");
        }
        for v in [
            "", "0", "false", "no", "off", "enabled", "y", "t", "2", "truee",
        ] {
            assert!(!is_enabled(Some(v)), "{v:?}");
        }
        assert!(!is_enabled(None));
    }
}
