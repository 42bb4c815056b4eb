//! Latchkey's shared test kit, used by the tests and benches of every
//! package (a `[dev-dependencies]` entry only, never shipped): the fake
//! services on loopback (`fakes`), moto for AWS (`moto`), child processes
//! with a bound (`process`), canary scans of files (`files`) and of a
//! process's memory (`memscan`, Linux), and the reference key service on a
//! loopback port (`keyservice`). Each helper is written here once; the
//! packages' own kits (`crates/core/tests/common`, `crates/cli/tests/common`,
//! `src-tauri/tests/webdriver`) hold only what is particular to them.
#![forbid(unsafe_code)]

pub mod fakes;
pub mod files;
pub mod keyservice;
#[cfg(target_os = "linux")]
pub mod memscan;
pub mod moto;
pub mod process;
