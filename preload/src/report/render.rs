//! The statistics file's text: the Prometheus text exposition format (version 0.0.4), as
//! node_exporter's textfile collector reads it. Every file carries the same `# HELP` and
//! `# TYPE` lines, so that the collector merges the files of many processes; no sample has a
//! timestamp (the collector rejects them). Pure: values in, text out.

use std::fmt::Write;
use std::time::Duration;

use sesscache::core::stats::Stat;

/// Which context a set of values belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CtxId {
    /// A context by its creation order, from 1.
    Id(u64),
    /// The sum of the contexts freed before the last [`super::KEEP_FREED`].
    Freed,
}

/// One context's values, as the program would read them through `SSL_CTX_ctrl`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CtxValues {
    /// The context.
    pub ctx: CtxId,
    /// False once the context was freed: the values are then its last.
    pub live: bool,
    /// `SSL_CTX_sess_number`.
    pub sessions: u64,
    /// The counters of [`COUNTERS`], in its order.
    pub counters: [u64; COUNTERS.len()],
    /// The effective mode, size and timeout (`None` for [`CtxId::Freed`]).
    pub settings: Option<(u32, u64, i64)>,
}

/// One counter: which, its metric name and help.
pub struct Counter {
    /// The counter.
    pub stat: Stat,
    /// The metric's name.
    pub metric: &'static str,
    /// Its `# HELP` text.
    pub help: &'static str,
}

/// The counters OpenSSL keeps per context.
pub const COUNTERS: [Counter; 11] = [
    Counter {
        stat: Stat::Connect,
        metric: "sesscache_connect_total",
        help: "Handshakes started in client mode (SSL_CTX_sess_connect).",
    },
    Counter {
        stat: Stat::ConnectGood,
        metric: "sesscache_connect_good_total",
        help: "Handshakes completed in client mode (SSL_CTX_sess_connect_good).",
    },
    Counter {
        stat: Stat::ConnectRenegotiate,
        metric: "sesscache_connect_renegotiate_total",
        help: "Renegotiations started in client mode (SSL_CTX_sess_connect_renegotiate).",
    },
    Counter {
        stat: Stat::Accept,
        metric: "sesscache_accept_total",
        help: "Handshakes started in server mode (SSL_CTX_sess_accept).",
    },
    Counter {
        stat: Stat::AcceptGood,
        metric: "sesscache_accept_good_total",
        help: "Handshakes completed in server mode (SSL_CTX_sess_accept_good).",
    },
    Counter {
        stat: Stat::AcceptRenegotiate,
        metric: "sesscache_accept_renegotiate_total",
        help: "Renegotiations started in server mode (SSL_CTX_sess_accept_renegotiate).",
    },
    Counter { stat: Stat::Hits, metric: "sesscache_hits_total", help: "Sessions resumed (SSL_CTX_sess_hits)." },
    Counter {
        stat: Stat::CbHits,
        metric: "sesscache_cb_hits_total",
        help: "Sessions found outside the internal cache: the program's get callback or Redis (SSL_CTX_sess_cb_hits).",
    },
    Counter {
        stat: Stat::Misses,
        metric: "sesscache_misses_total",
        help: "Session lookups that found nothing (SSL_CTX_sess_misses).",
    },
    Counter {
        stat: Stat::Timeouts,
        metric: "sesscache_timeouts_total",
        help: "Sessions offered by clients that had expired (SSL_CTX_sess_timeouts).",
    },
    Counter {
        stat: Stat::CacheFull,
        metric: "sesscache_cache_full_total",
        help: "Sessions evicted because the cache was full (SSL_CTX_sess_cache_full).",
    },
];

/// A counter as Prometheus needs it: OpenSSL's counters are C `int`s that wrap; read as
/// unsigned they wrap at 2^32, which Prometheus takes for a counter reset.
pub fn counter_value(v: std::ffi::c_long) -> u64 {
    u64::from(v as i32 as u32)
}

/// The process a file describes.
pub struct Process<'a> {
    /// The program's name (`/proc/self/comm`, reduced to `[A-Za-z0-9_.-]`).
    pub program: &'a str,
    /// Its process id.
    pub pid: u32,
    /// True when the file is written as the process ends.
    pub exited: bool,
}

/// The Redis tier's counters (fleet mode): the bound on one operation, then each counter.
pub struct Redis {
    /// `SESSCACHE_REDIS_TIMEOUT_MS`.
    pub timeout: Duration,
    /// The counters by name, in the store's order.
    pub counters: Vec<(&'static str, u64)>,
}

/// The comment line that opens a file: who wrote it, when and why.
pub fn header(p: &Process, time: i64, reason: &str) -> String {
    format!("# sesscache preload statistics: program={} pid={} time={time} reason={reason}\n", p.program, p.pid)
}

/// The metrics of a process: its contexts, then its Redis tier if any.
pub fn body(p: &Process, ctxs: &[CtxValues], redis: Option<&Redis>) -> String {
    let mut out = String::with_capacity(256 + ctxs.len() * 1200);
    let labels = |c: &CtxValues| match c.ctx {
        CtxId::Id(id) => format!("{{program=\"{}\",pid=\"{}\",ctx=\"{id}\"}}", p.program, p.pid),
        CtxId::Freed => format!("{{program=\"{}\",pid=\"{}\",ctx=\"freed\"}}", p.program, p.pid),
    };
    let family = |out: &mut String, name: &str, kind: &str, help: &str, f: &dyn Fn(&CtxValues) -> Option<String>| {
        let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n");
        for c in ctxs {
            if let Some(v) = f(c) {
                let _ = writeln!(out, "{name}{} {v}", labels(c));
            }
        }
    };
    family(
        &mut out,
        "sesscache_context_live",
        "gauge",
        "1 while the SSL_CTX exists; 0 once it was freed (its values are then final).",
        &|c| Some(u8::from(c.live).to_string()),
    );
    family(&mut out, "sesscache_sessions", "gauge", "Sessions in the context's cache (SSL_CTX_sess_number).", &|c| {
        Some(c.sessions.to_string())
    });
    for (i, k) in COUNTERS.iter().enumerate() {
        family(&mut out, k.metric, "counter", k.help, &|c| Some(c.counters[i].to_string()));
    }
    family(
        &mut out,
        "sesscache_cache_size",
        "gauge",
        "The effective cache size, 0 for unlimited (SSL_CTX_sess_get_cache_size).",
        &|c| c.settings.map(|s| s.1.to_string()),
    );
    family(
        &mut out,
        "sesscache_timeout_seconds",
        "gauge",
        "The effective session timeout (SSL_CTX_get_timeout).",
        &|c| c.settings.map(|s| s.2.to_string()),
    );
    family(
        &mut out,
        "sesscache_cache_mode",
        "gauge",
        "The effective SSL_SESS_CACHE_* bits (SSL_CTX_get_session_cache_mode).",
        &|c| c.settings.map(|s| s.0.to_string()),
    );
    let plabels = format!("{{program=\"{}\",pid=\"{}\"}}", p.program, p.pid);
    let _ = write!(
        out,
        "# HELP sesscache_process_exited 1 when the file was written as the process ended (exit or a terminating signal).\n\
         # TYPE sesscache_process_exited gauge\nsesscache_process_exited{plabels} {}\n",
        u8::from(p.exited)
    );
    if let Some(r) = redis {
        let _ = write!(
            out,
            "# HELP sesscache_redis_timeout_seconds The bound on one Redis operation (SESSCACHE_REDIS_TIMEOUT_MS).\n\
             # TYPE sesscache_redis_timeout_seconds gauge\nsesscache_redis_timeout_seconds{plabels} {}\n",
            r.timeout.as_secs_f64()
        );
        for (name, v) in &r.counters {
            let _ = write!(
                out,
                "# HELP sesscache_redis_{name}_total {}\n# TYPE sesscache_redis_{name}_total counter\n\
                 sesscache_redis_{name}_total{plabels} {v}\n",
                redis_help(name)
            );
        }
    }
    out
}

/// The help of a Redis counter (see `RedisStat`).
fn redis_help(name: &str) -> &'static str {
    match name {
        "hits" => "Redis lookups that returned a session.",
        "misses" => "Redis lookups that returned none: nothing stored, a failure, or a corrupt value.",
        "stores" => "Sessions written to Redis.",
        "deletes" => "Sessions deleted from Redis.",
        "errors" => "Redis operations that failed with an error.",
        "timeouts" => "Redis operations that gave up at the deadline.",
        "corrupt" => "Redis values that were not a session for their key.",
        "skipped" => "Redis operations not attempted because Redis had just failed.",
        "redirects" => "Redis Cluster MOVED and ASK redirections followed.",
        "refreshes" => "Redis Cluster slot maps asked for, or Redis Sentinel asked for the primary.",
        _ => "A counter of the Redis tier (see docs/preload.md).",
    }
}

/// A program name usable in a file name and a label value: `[A-Za-z0-9_.-]`, others as `_`,
/// at most 32 characters, never empty.
pub fn program_name(comm: &str) -> String {
    let s: String = comm
        .trim_end_matches('\n')
        .chars()
        .take(32)
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') { c } else { '_' })
        .collect();
    if s.is_empty() || s.starts_with('.') {
        format!("p{s}")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(id: u64, accept: u64) -> CtxValues {
        let mut counters = [0; COUNTERS.len()];
        counters[3] = accept;
        CtxValues { ctx: CtxId::Id(id), live: true, sessions: 2, counters, settings: Some((2, 20480, 300)) }
    }

    /// Every line is a comment or `name{labels} value`; every sample's family was announced
    /// by a HELP and a TYPE line just before its samples; no family appears twice.
    fn check_exposition(text: &str) -> Vec<(String, String, String)> {
        let mut samples = Vec::new();
        let mut current = String::new();
        let mut seen = std::collections::HashSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let name = rest.split(' ').next().unwrap();
                assert!(seen.insert(name.to_string()), "family {name} twice");
                current = name.to_string();
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                let mut it = rest.split(' ');
                assert_eq!(it.next(), Some(current.as_str()));
                assert!(matches!(it.next(), Some("counter" | "gauge")));
            } else if line.starts_with('#') {
                continue;
            } else {
                let (name, rest) = line.split_once('{').expect("labels");
                let (labels, value) = rest.split_once("} ").expect("value");
                assert_eq!(name, current, "{line}");
                value.parse::<f64>().expect("a number");
                samples.push((name.to_string(), labels.to_string(), value.to_string()));
            }
        }
        samples
    }

    #[test]
    fn a_process_with_two_contexts_and_redis() {
        let p = Process { program: "nginx", pid: 42, exited: false };
        let mut freed = ctx(0, 7);
        freed.ctx = CtxId::Freed;
        freed.live = false;
        freed.settings = None;
        let redis = Redis { timeout: Duration::from_millis(50), counters: vec![("hits", 3), ("stores", 1)] };
        let text = header(&p, 1, "periodic") + &body(&p, &[ctx(1, 5), ctx(2, 0), freed], Some(&redis));
        let samples = check_exposition(&text);
        let get = |name: &str, labels: &str| samples.iter().find(|s| s.0 == name && s.1 == labels).map(|s| s.2.clone());
        assert_eq!(get("sesscache_accept_total", "program=\"nginx\",pid=\"42\",ctx=\"1\"").as_deref(), Some("5"));
        assert_eq!(get("sesscache_accept_total", "program=\"nginx\",pid=\"42\",ctx=\"freed\"").as_deref(), Some("7"));
        assert_eq!(get("sesscache_cache_size", "program=\"nginx\",pid=\"42\",ctx=\"freed\""), None);
        assert_eq!(get("sesscache_cache_size", "program=\"nginx\",pid=\"42\",ctx=\"2\"").as_deref(), Some("20480"));
        assert_eq!(get("sesscache_redis_hits_total", "program=\"nginx\",pid=\"42\"").as_deref(), Some("3"));
        assert_eq!(get("sesscache_redis_timeout_seconds", "program=\"nginx\",pid=\"42\"").as_deref(), Some("0.05"));
        assert_eq!(get("sesscache_process_exited", "program=\"nginx\",pid=\"42\"").as_deref(), Some("0"));
        assert!(text.starts_with("# sesscache preload statistics: program=nginx pid=42 time=1 reason=periodic\n"));
    }

    #[test]
    fn counters_wrap_as_unsigned_ints() {
        assert_eq!(counter_value(5), 5);
        assert_eq!(counter_value(-1), u64::from(u32::MAX));
        assert_eq!(counter_value(i64::from(i32::MIN)), 1 << 31);
    }

    #[test]
    fn program_names_are_safe_in_paths_and_labels() {
        assert_eq!(program_name("nginx\n"), "nginx");
        assert_eq!(program_name("my prog/\"x\""), "my_prog__x_");
        assert_eq!(program_name(""), "p");
        assert_eq!(program_name("..x"), "p..x");
        assert_eq!(program_name(&"a".repeat(40)).len(), 32);
    }
}
