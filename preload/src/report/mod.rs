//! `SESSCACHE_STATS=DIR`: each process whose contexts started a handshake keeps its own file,
//! `DIR/sesscache-<program>-<pid>.prom`, in the Prometheus text format (node_exporter's
//! textfile collector reads the directory as it is). A process whose contexts never accepted
//! or connected (an nginx master, `nginx -t`, an apache parent) writes nothing. Files are
//! rewritten at most once a second while anything changes, within a second of the last
//! change, at exit and on SIGTERM/SIGINT; see docs/preload.md ("Statistics").
//!
//! - `registry`: every context, live or freed, and the values read from them.
//! - `render`: the file's text.
//! - `writer`: when files are written (the writer thread, exit, signals, fork).
//!
//! The system calls that need `unsafe` (signals, pipes, fork handlers) are in `sys::process`.

mod registry;
mod render;
mod writer;

use std::sync::{Arc, Once};

use crate::config::config;
use crate::state::PCtx;
use crate::sys::{at_exit, guard};

pub use registry::next_id;

static SETUP: Once = Once::new();

/// Lists a new context (with `SESSCACHE_STATS` set).
pub fn register(st: &Arc<PCtx>) {
    if config().stats.is_none() {
        return;
    }
    SETUP.call_once(|| {
        at_exit(write_at_exit);
        writer::setup();
    });
    registry::register(st);
}

/// Something changed: a connection was made, a cache event, a callback, a Redis operation.
pub fn tick() {
    if config().stats.is_some() {
        writer::tick();
    }
}

/// A connection was made (`SSL_new`).
pub fn connection() {
    if config().stats.is_some() {
        writer::connection();
    }
}

/// A context is in a handshake: our get or new callback runs.
pub fn handshake() {
    if config().stats.is_some() {
        writer::handshake();
    }
}

/// A context is being freed: its last values stay in the file.
pub fn freed(st: &PCtx) {
    if config().stats.is_some() {
        registry::freed(st);
        writer::tick();
    }
}

extern "C" fn write_at_exit() {
    guard((), writer::at_exit);
}
