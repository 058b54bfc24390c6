//! Configuration from the environment, read once. A bad value prints one line on stderr and
//! is ignored: the host keeps running with the default.

use std::path::PathBuf;
use std::time::Duration;

use once_cell::sync::Lazy;
use sesscache::core::mode::CacheMode;
use sesscache::redis_store::tls::TlsFiles;
use sesscache::redis_store::DEFAULT_TIMEOUT;

use crate::sys::stderr_line;

/// The preload's settings.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// `SESSCACHE_SIZE`: the cache size of every context, whatever the host sets.
    pub size: Option<u64>,
    /// `SESSCACHE_TIMEOUT`: the session timeout of every context, whatever the host sets.
    pub timeout: Option<i64>,
    /// `SESSCACHE_MODE`: the cache mode of every context, whatever the host sets.
    pub mode: Option<u32>,
    /// `SESSCACHE_STATS`: the directory where each process writes its contexts' counters.
    pub stats: Option<PathBuf>,
    /// `SESSCACHE_LOG=1`: one stderr line per cache event.
    pub log: bool,
    /// `SESSCACHE_REDIS=redis://host:port/db` (or `rediss://`): fleet mode, every context's
    /// sessions also in Redis. Checked when the store opens (`fleet`), with the TLS files.
    pub redis: Option<String>,
    /// `SESSCACHE_REDIS_TIMEOUT_MS`: the bound on one Redis operation (default 50 ms).
    pub redis_timeout: Option<Duration>,
    /// `SESSCACHE_REDIS_CA`, `SESSCACHE_REDIS_CERT`, `SESSCACHE_REDIS_KEY`: TLS to Redis.
    pub redis_tls: TlsFiles,
    /// `SESSCACHE_REDIS_SEAL_KEYS=/path`: the fleet's keys; values in Redis are sealed.
    pub redis_seal_keys: Option<PathBuf>,
}

/// The longest `SESSCACHE_REDIS_TIMEOUT_MS` accepted: a handshake should never wait longer.
const MAX_REDIS_TIMEOUT_MS: u64 = 10_000;

static CONFIG: Lazy<Config> = Lazy::new(|| {
    let (cfg, errors) = Config::parse(|k| std::env::var_os(k).map(|v| v.to_string_lossy().into_owned()));
    for e in errors {
        stderr_line(&format!("sesscache preload: {e}"));
    }
    cfg
});

/// The process's configuration.
pub fn config() -> &'static Config {
    &CONFIG
}

impl Config {
    /// Reads the variables through `get`; returns the configuration and one message per
    /// variable that was ignored.
    pub fn parse(get: impl Fn(&str) -> Option<String>) -> (Config, Vec<String>) {
        let mut cfg = Config::default();
        let mut errors = Vec::new();
        let mut bad =
            |name: &str, v: &str, why: &str| errors.push(format!("ignoring {name}={v:?}: {why}; using the default"));
        if let Some(v) = get("SESSCACHE_SIZE") {
            match v.trim().parse::<u64>() {
                Ok(n) if i64::try_from(n).is_ok() => cfg.size = Some(n),
                _ => bad("SESSCACHE_SIZE", &v, "expected a number of sessions, 0 for unlimited"),
            }
        }
        if let Some(v) = get("SESSCACHE_TIMEOUT") {
            match v.trim().parse::<i64>() {
                Ok(n) if n >= 0 => cfg.timeout = Some(n),
                _ => bad("SESSCACHE_TIMEOUT", &v, "expected a number of seconds"),
            }
        }
        if let Some(v) = get("SESSCACHE_MODE") {
            match parse_mode(&v) {
                Some(m) => cfg.mode = Some(m),
                None => bad(
                    "SESSCACHE_MODE",
                    &v,
                    "expected a number or names joined by '|' (off, client, server, both, no_auto_clear, \
                     no_internal_lookup, no_internal_store, no_internal, update_time)",
                ),
            }
        }
        if let Some(v) = get("SESSCACHE_STATS") {
            if v.is_empty() {
                bad("SESSCACHE_STATS", &v, "expected a directory");
            } else {
                cfg.stats = Some(PathBuf::from(v));
            }
        }
        if let Some(v) = get("SESSCACHE_LOG") {
            match v.trim() {
                "1" => cfg.log = true,
                "0" | "" => {}
                _ => bad("SESSCACHE_LOG", &v, "expected 1 or 0"),
            }
        }
        if let Some(v) = get("SESSCACHE_REDIS_TIMEOUT_MS") {
            match v.trim().parse::<u64>() {
                Ok(ms) if (1..=MAX_REDIS_TIMEOUT_MS).contains(&ms) => {
                    cfg.redis_timeout = Some(Duration::from_millis(ms));
                }
                _ => bad("SESSCACHE_REDIS_TIMEOUT_MS", &v, "expected milliseconds, 1 to 10000"),
            }
        }
        // The URL may carry a password: it is never echoed. The fleet module opens it.
        cfg.redis = get("SESSCACHE_REDIS").map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let path = |name: &str| get(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        cfg.redis_tls = TlsFiles {
            ca: path("SESSCACHE_REDIS_CA"),
            cert: path("SESSCACHE_REDIS_CERT"),
            key: path("SESSCACHE_REDIS_KEY"),
        };
        cfg.redis_seal_keys = path("SESSCACHE_REDIS_SEAL_KEYS");
        (cfg, errors)
    }

    /// The bound on one Redis operation.
    pub fn redis_timeout(&self) -> Duration {
        self.redis_timeout.unwrap_or(DEFAULT_TIMEOUT)
    }
}

/// A mode as a number (decimal or 0x hex) or as `SSL_SESS_CACHE_*` names joined by `|`.
fn parse_mode(v: &str) -> Option<u32> {
    let v = v.trim();
    if let Some(hex) = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        return u32::from_str_radix(hex, 16).ok();
    }
    if let Ok(n) = v.parse::<u32>() {
        return Some(n);
    }
    v.split('|').try_fold(0u32, |acc, name| {
        let name = name.trim().to_ascii_lowercase();
        let name = name.strip_prefix("ssl_sess_cache_").unwrap_or(&name);
        let bits = match name {
            "off" => CacheMode::empty(),
            "client" => CacheMode::CLIENT,
            "server" => CacheMode::SERVER,
            "both" => CacheMode::BOTH,
            "no_auto_clear" => CacheMode::NO_AUTO_CLEAR,
            "no_internal_lookup" => CacheMode::NO_INTERNAL_LOOKUP,
            "no_internal_store" => CacheMode::NO_INTERNAL_STORE,
            "no_internal" => CacheMode::NO_INTERNAL,
            "update_time" => CacheMode::UPDATE_TIME,
            _ => return None,
        };
        Some(acc | bits.bits())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(vars: &[(&str, &str)]) -> (Config, Vec<String>) {
        Config::parse(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string()))
    }

    #[test]
    fn empty_environment_is_the_default() {
        assert_eq!(parse(&[]), (Config::default(), vec![]));
    }

    #[test]
    fn good_values() {
        let (c, e) = parse(&[
            ("SESSCACHE_SIZE", "10"),
            ("SESSCACHE_TIMEOUT", "60"),
            ("SESSCACHE_MODE", "server|no_auto_clear"),
            ("SESSCACHE_STATS", "s.txt"),
            ("SESSCACHE_LOG", "1"),
            ("SESSCACHE_REDIS", "redis://127.0.0.1:6379/2"),
            ("SESSCACHE_REDIS_TIMEOUT_MS", "20"),
        ]);
        assert!(e.is_empty());
        assert_eq!(c.redis.as_deref(), Some("redis://127.0.0.1:6379/2"));
        assert_eq!(c.redis_timeout(), Duration::from_millis(20));
        assert_eq!(c.size, Some(10));
        assert_eq!(c.timeout, Some(60));
        assert_eq!(c.mode, Some(0x82));
        assert_eq!(c.stats, Some(PathBuf::from("s.txt")));
        assert!(c.log);
        assert_eq!(parse_mode("0x302"), Some(0x302));
        assert_eq!(parse_mode("SSL_SESS_CACHE_BOTH"), Some(3));
        assert_eq!(parse_mode("off"), Some(0));
    }

    #[test]
    fn bad_values_are_ignored_one_message_each() {
        let (c, e) = parse(&[
            ("SESSCACHE_SIZE", "-1"),
            ("SESSCACHE_TIMEOUT", "soon"),
            ("SESSCACHE_MODE", "fast"),
            ("SESSCACHE_LOG", "yes"),
        ]);
        assert_eq!(c, Config::default());
        assert_eq!(e.len(), 4);
        assert!(e[0].contains("SESSCACHE_SIZE"));
    }

    #[test]
    fn bad_redis_timeout_is_one_message() {
        let (c, e) = parse(&[("SESSCACHE_REDIS_TIMEOUT_MS", "0")]);
        assert_eq!(c, Config::default());
        assert_eq!(c.redis_timeout(), DEFAULT_TIMEOUT);
        assert_eq!(e.len(), 1);
        let (c, e) = parse(&[("SESSCACHE_REDIS", " "), ("SESSCACHE_REDIS_CA", "")]);
        assert_eq!((c.redis, c.redis_tls.is_default(), e.len()), (None, true, 0));
    }

    #[test]
    fn tls_and_seal_settings() {
        let (c, e) = parse(&[
            ("SESSCACHE_REDIS", "rediss://127.0.0.1:6380/0"),
            ("SESSCACHE_REDIS_CA", "ca.pem"),
            ("SESSCACHE_REDIS_CERT", "c.pem"),
            ("SESSCACHE_REDIS_KEY", "k.pem"),
            ("SESSCACHE_REDIS_SEAL_KEYS", "keys"),
        ]);
        assert!(e.is_empty());
        assert_eq!(c.redis_tls.ca, Some(PathBuf::from("ca.pem")));
        assert_eq!(c.redis_tls.key, Some(PathBuf::from("k.pem")));
        assert_eq!(c.redis_seal_keys, Some(PathBuf::from("keys")));
    }
}
