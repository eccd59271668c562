//! The wasmtime engine: pooling allocator when the address space allows, and
//! the on-disk compiled-module cache.

use anyhow::Context;
use std::path::{Path, PathBuf};
use std::time::Duration;
use wasmtime::{
    Cache, CacheConfig, Config, Enabled, Engine, InstanceAllocationStrategy,
    PoolingAllocationConfig,
};

/// Largest linear memory a guest may grow to.
pub const MAX_GUEST_MEMORY: usize = 256 << 20;
/// Instances the pool keeps slots for (concurrent requests).
const POOLED_INSTANCES: u32 = 1000;

/// How the engine was set up, for the start-up log.
#[derive(Debug, Clone)]
pub struct EngineInfo {
    pub pooling: bool,
    pub cache_dir: Option<PathBuf>,
}

/// Where compiled components are cached unless told otherwise:
/// `$XDG_CACHE_HOME/crm-host` or `~/.cache/crm-host`.
pub fn default_cache_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
        .map(|base| base.join("crm-host"))
}

/// How often every running guest yields to the runtime (and its deadline is checked).
/// Spin ticks at the same rate.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

fn base_config(cache_dir: Option<&Path>) -> anyhow::Result<Config> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    // Guests yield at every epoch tick: a guest in `loop {}` cannot hold a worker thread,
    // and can be stopped at its deadline (see http/invoke.rs).
    config.epoch_interruption(true);
    // For profiling with `perf`: CRM_HOST_PERFMAP=1 writes /tmp/perf-<pid>.map, naming the
    // JIT-compiled guest functions in `perf report`.
    if std::env::var_os("CRM_HOST_PERFMAP").is_some_and(|v| v == "1") {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    if let Some(dir) = cache_dir {
        let mut cache = CacheConfig::new();
        cache.with_directory(dir);
        config.cache(Some(
            Cache::new(cache)
                .map_err(anyhow::Error::from)
                .context("Failed to set up the module cache")?,
        ));
    }
    Ok(config)
}

fn pooling_config() -> PoolingAllocationConfig {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(POOLED_INSTANCES)
        .total_core_instances(POOLED_INSTANCES * 4)
        .total_memories(POOLED_INSTANCES * 2)
        .total_tables(POOLED_INSTANCES * 4)
        .max_memory_size(MAX_GUEST_MEMORY)
        // Reset freed slots by rewriting only the pages a request dirtied
        // (PAGEMAP_SCAN, Linux 6.7+) instead of madvise: no page faults on
        // reuse and no TLB-shootdown IPIs to the other cores.
        .pagemap_scan(Enabled::Auto)
        .linear_memory_keep_resident(tuning("CRM_HOST_KEEP_RESIDENT", 8 << 20))
        .table_keep_resident(tuning("CRM_HOST_TABLE_KEEP_RESIDENT", 1 << 16))
        .async_stack_keep_resident(tuning("CRM_HOST_STACK_KEEP_RESIDENT", 0))
        .decommit_batch_size(tuning("CRM_HOST_DECOMMIT_BATCH", 1));
    pool
}

/// A pool setting, overridable through the environment for benchmarking.
fn tuning(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Build the engine, preferring the pooling allocator and falling back to
/// on-demand allocation when the pool cannot be reserved.
pub fn build_engine(cache_dir: Option<&Path>) -> anyhow::Result<(Engine, EngineInfo)> {
    let mut pooled = base_config(cache_dir)?;
    pooled.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling_config()));
    let info = |pooling| EngineInfo {
        pooling,
        cache_dir: cache_dir.map(Path::to_path_buf),
    };
    let (engine, pooling) = match Engine::new(&pooled) {
        Ok(engine) => (engine, true),
        Err(e) => {
            crate::log::warn(
                "pooling allocator unavailable, using on-demand allocation",
                &[("error", format!("{e:#}").into())],
            );
            (Engine::new(&base_config(cache_dir)?)?, false)
        }
    };
    start_epoch_ticker(&engine)?;
    Ok((engine, info(pooling)))
}

/// A thread of its own (so busy runtime workers cannot delay it) that advances the
/// engine's epoch every tick, and ends when the engine is dropped.
fn start_epoch_ticker(engine: &Engine) -> anyhow::Result<()> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("crm-host-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .context("Failed to start the epoch ticker thread")?;
    Ok(())
}
