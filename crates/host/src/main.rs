//! The crm-host command line: `up` and `build`, with `spin up`'s flag names.

use clap::{Parser, Subcommand};
use crm_host::{Limits, UpOptions, VariableSources};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "crm-host",
    version,
    about = "Serve a Spin application with wasmtime"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the application (like `spin up`).
    Up(UpArgs),
    /// Run every component's build command (like `spin build`).
    Build {
        /// The application manifest.
        #[arg(short = 'f', long = "from", default_value = "spin.toml")]
        from: PathBuf,
        /// Build only these components.
        #[arg(short = 'c', long = "component-id")]
        components: Vec<String>,
    },
    /// Apply, revert, list or check database migrations.
    Migrate(crm_host::migrate::MigrateArgs),
}

#[derive(clap::Args)]
struct UpArgs {
    /// The application manifest.
    #[arg(short = 'f', long = "from", default_value = "spin.toml")]
    from: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// Spin runtime config file (stores, databases).
    #[arg(long = "runtime-config-file")]
    runtime_config_file: Option<PathBuf>,
    /// Directory for default stores; defaults to `.spin/` beside the manifest.
    #[arg(long = "state-dir")]
    state_dir: Option<PathBuf>,
    /// Set an application variable: `--variable name=value` (repeatable).
    #[arg(long = "variable", value_parser = parse_variable)]
    variables: Vec<(String, String)>,
    /// Build the components before starting.
    #[arg(long)]
    build: bool,
    /// Compiled-module cache directory (default: ~/.cache/crm-host).
    #[arg(long = "cache-dir", env = "CRM_HOST_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    /// Most connections per PostgreSQL address's pool.
    #[arg(long = "pg-pool-size", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..))]
    pg_pool_size: u16,
    /// How long a request waits for a free PostgreSQL connection, in milliseconds.
    #[arg(long = "pg-pool-wait-ms", default_value_t = 5000)]
    pg_pool_wait_ms: u64,
    /// How long one request's guest may run, chained requests included (e.g. 30s, 500ms).
    #[arg(long = "request-timeout", default_value = "30s", value_parser = crm_host::parse_duration)]
    request_timeout: Duration,
    /// How long a client may take to send a request head; also the idle keep-alive timeout.
    #[arg(long = "header-read-timeout", default_value = "10s", value_parser = crm_host::parse_duration)]
    header_read_timeout: Duration,
    /// A response write stalled this long (client not reading) closes the connection.
    #[arg(long = "write-timeout", default_value = "30s", value_parser = crm_host::parse_duration)]
    write_timeout: Duration,
    /// Most open connections; more get 503 and are closed.
    #[arg(long = "max-connections", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,
    /// Most requests served at once; more get 503 with Retry-After.
    #[arg(long = "max-in-flight", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    max_in_flight: u32,
    /// Largest request body (e.g. 10MiB, 512KiB, bytes); larger ones get 413.
    #[arg(long = "max-request-body", default_value = "10MiB", value_parser = crm_host::parse_size)]
    max_request_body: u64,
    /// Most nested service-chaining hops one request may make.
    #[arg(long = "max-chain-depth", default_value_t = 8)]
    max_chain_depth: u32,
    /// Serve `GET /metrics` (Prometheus text) on this address; off when not given.
    #[arg(long = "admin-listen")]
    admin_listen: Option<SocketAddr>,
    /// Send a request to the app at an interval (repeatable), e.g.
    /// "30s POST /api/loops/drain bearer-variable=loops_drain_token": the bearer is the
    /// value of that application variable.
    #[arg(long = "schedule", value_parser = crm_host::schedule::parse_schedule)]
    schedules: Vec<crm_host::schedule::Schedule>,
}

impl UpArgs {
    fn limits(&self) -> Limits {
        Limits {
            request_timeout: self.request_timeout,
            header_read_timeout: self.header_read_timeout,
            write_timeout: self.write_timeout,
            max_connections: self.max_connections as usize,
            max_in_flight: self.max_in_flight as usize,
            max_request_body: self.max_request_body,
            max_chain_depth: self.max_chain_depth,
        }
    }
}

fn parse_variable(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("`{s}` is not name=value"))
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Up(args) => up(args).await,
        Command::Build { from, components } => crm_host::app::builder::build(&from, &components),
        Command::Migrate(args) => crm_host::migrate::run(args).await,
    };
    if let Err(e) = result {
        eprintln!("Error: {e:#}");
        std::process::exit(1);
    }
}

async fn up(args: UpArgs) -> anyhow::Result<()> {
    if args.build {
        crm_host::app::builder::build(&args.from, &[])?;
    }
    crm_host::migrate::apply_on_start(
        &args.from,
        args.runtime_config_file.as_deref(),
        args.state_dir.as_deref(),
    )
    .await?;
    let limits = args.limits();
    let options = UpOptions {
        manifest_path: args.from.clone(),
        listen: args.listen,
        runtime_config_file: args.runtime_config_file,
        state_dir: args.state_dir,
        variables: VariableSources {
            cli: args.variables,
            env: std::env::vars()
                .filter(|(k, _)| k.starts_with("SPIN_VARIABLE_"))
                .collect(),
            dotenv: Some(PathBuf::from(".env")),
        },
        cache_dir: args.cache_dir.or_else(crm_host::engine::default_cache_dir),
        pg_pool_size: args.pg_pool_size.into(),
        pg_pool_wait: Duration::from_millis(args.pg_pool_wait_ms),
        limits,
        admin_listen: args.admin_listen,
        schedules: args.schedules,
    };
    let started = std::time::Instant::now();
    let server = crm_host::start(options).await?;
    println!(
        "Serving http://{} (ready in {} ms)",
        server.local_addr,
        started.elapsed().as_millis()
    );
    if let Some(admin) = server.admin_addr {
        println!("Metrics at http://{admin}/metrics");
    }
    println!("Available Routes:");
    for (route, component) in crm_host::describe_routes(&args.from)? {
        println!("  {component}: http://{}{route}", server.local_addr);
    }
    wait_for_signal().await;
    println!("Shutting down: finishing in-flight requests (a second signal exits at once)");
    tokio::select! {
        _ = server.shutdown() => {}
        _ = wait_for_signal() => println!("Second signal: exiting now"),
    }
    Ok(())
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
