//! Typed configuration from environment variables.
//!
//! Every value is read through [`Env`], so that tests can pass a map instead of mutating
//! the process environment. Secrets are also readable from a file named by `NAME_FILE`
//! (Docker/Kubernetes secrets), never from a committed `.env`. The first bad or missing
//! variable stops the start with one line naming it.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use secrecy::SecretString;

/// A configuration problem: which variable, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}: {reason}")]
pub struct ConfigError {
    pub var: String,
    pub reason: String,
}

impl ConfigError {
    pub fn new(var: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            var: var.into(),
            reason: reason.into(),
        }
    }
}

/// Where configuration values come from: the process environment or a fixed map.
#[derive(Clone, Default)]
pub struct Env {
    vars: HashMap<String, String>,
}

impl fmt::Debug for Env {
    // Values may be secrets: list the names only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<_> = self.vars.keys().collect();
        names.sort();
        f.debug_struct("Env").field("vars", &names).finish()
    }
}

impl Env {
    /// A snapshot of the process environment (variables that are not UTF-8 are skipped).
    pub fn from_process() -> Self {
        Self {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// Returns a copy with `name` set to `value`.
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.vars.insert(name.into(), value.into());
        self
    }

    /// Returns a copy without `name`.
    pub fn without(mut self, name: &str) -> Self {
        self.vars.remove(name);
        self
    }

    /// The raw value; an empty value counts as unset.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// A required, parsed value.
    pub fn required<T: FromStr>(&self, name: &str) -> Result<T, ConfigError>
    where
        T::Err: fmt::Display,
    {
        match self.raw(name) {
            Some(raw) => parse(name, raw),
            None => Err(ConfigError::new(name, "missing")),
        }
    }

    /// An optional, parsed value.
    pub fn optional<T: FromStr>(&self, name: &str) -> Result<Option<T>, ConfigError>
    where
        T::Err: fmt::Display,
    {
        self.raw(name).map(|raw| parse(name, raw)).transpose()
    }

    /// A parsed value with a default.
    pub fn or<T: FromStr>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T::Err: fmt::Display,
    {
        Ok(self.optional(name)?.unwrap_or(default))
    }

    /// A count or a size that must be at least 1 (`default` when unset).
    pub fn at_least_one<T>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + From<u8>,
        T::Err: fmt::Display,
    {
        let value = self.or(name, default)?;
        if value < T::from(1) {
            return Err(ConfigError::new(name, "must be at least 1"));
        }
        Ok(value)
    }

    /// A duration given in whole seconds.
    pub fn seconds(&self, name: &str, default: Duration) -> Result<Duration, ConfigError> {
        match self.optional::<u64>(name)? {
            Some(0) => Err(ConfigError::new(name, "must be at least 1 (seconds)")),
            Some(secs) => Ok(Duration::from_secs(secs)),
            None => Ok(default),
        }
    }

    /// A secret from `NAME` or from the file named by `NAME_FILE` (one of them, not
    /// both); a trailing newline of the file is not part of the secret.
    pub fn secret_opt(&self, name: &str) -> Result<Option<SecretString>, ConfigError> {
        let file_var = format!("{name}_FILE");
        match (self.raw(name), self.raw(&file_var)) {
            (Some(_), Some(_)) => Err(ConfigError::new(
                name,
                format!("set either {name} or {file_var}, not both"),
            )),
            (Some(value), None) => Ok(Some(SecretString::from(value.to_owned()))),
            (None, Some(path)) => {
                let content = std::fs::read_to_string(path).map_err(|e| {
                    ConfigError::new(&file_var, format!("cannot read secret file {path}: {e}"))
                })?;
                let value = content.trim_end_matches(['\r', '\n']);
                if value.is_empty() {
                    return Err(ConfigError::new(
                        &file_var,
                        format!("secret file {path} is empty"),
                    ));
                }
                Ok(Some(SecretString::from(value.to_owned())))
            }
            (None, None) => Ok(None),
        }
    }

    /// A required secret from `NAME` or `NAME_FILE`.
    pub fn secret(&self, name: &str) -> Result<SecretString, ConfigError> {
        self.secret_opt(name)?
            .ok_or_else(|| ConfigError::new(name, format!("missing (set {name} or {name}_FILE)")))
    }
}

fn parse<T: FromStr>(name: &str, raw: &str) -> Result<T, ConfigError>
where
    T::Err: fmt::Display,
{
    raw.trim()
        .parse()
        .map_err(|e| ConfigError::new(name, format!("invalid value {raw:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn counts_are_at_least_one() {
        let env = Env::from_pairs([("A", "0"), ("B", "-2"), ("C", "3")]);
        assert_eq!(
            env.at_least_one("A", 5u32).unwrap_err().to_string(),
            "A: must be at least 1"
        );
        assert!(env.at_least_one("B", 5i64).is_err());
        assert_eq!(env.at_least_one("C", 5usize).unwrap(), 3);
        assert_eq!(env.at_least_one("UNSET", 5u64).unwrap(), 5);
    }

    fn secret_file(content: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(content.as_bytes()).unwrap();
        file
    }

    #[test]
    fn secret_from_file_drops_the_trailing_newline_only() {
        let file = secret_file(" spaced secret \n");
        let env = Env::default().with("TOKEN_FILE", file.path().to_str().unwrap());
        assert_eq!(
            env.secret("TOKEN").unwrap().expose_secret(),
            " spaced secret "
        );
    }

    #[test]
    fn secret_in_both_places_is_refused() {
        let file = secret_file("a");
        let env = Env::default()
            .with("TOKEN", "b")
            .with("TOKEN_FILE", file.path().to_str().unwrap());
        let err = env.secret("TOKEN").unwrap_err();
        assert_eq!(err.var, "TOKEN");
        assert!(err.reason.contains("not both"), "{err}");
    }

    #[test]
    fn empty_or_missing_secret_files_name_the_file_variable() {
        let empty = secret_file("\n");
        let env = Env::default().with("TOKEN_FILE", empty.path().to_str().unwrap());
        assert_eq!(env.secret("TOKEN").unwrap_err().var, "TOKEN_FILE");
        let env = Env::default().with("TOKEN_FILE", "/nonexistent/secret");
        let err = env.secret("TOKEN").unwrap_err();
        assert_eq!(err.var, "TOKEN_FILE");
        assert!(err.reason.contains("/nonexistent/secret"), "{err}");
    }

    #[test]
    fn missing_secret_says_both_ways_to_give_it() {
        let err = Env::default().secret("TOKEN").unwrap_err();
        assert_eq!(err.to_string(), "TOKEN: missing (set TOKEN or TOKEN_FILE)");
    }

    #[test]
    fn blank_values_count_as_unset_and_zero_seconds_is_refused() {
        let env = Env::default().with("PORT", "  ").with("TIMEOUT", "0");
        assert_eq!(env.or("PORT", 8080u16).unwrap(), 8080);
        assert_eq!(
            env.seconds("TIMEOUT", Duration::from_secs(1))
                .unwrap_err()
                .var,
            "TIMEOUT"
        );
    }
}
