//! `beacon`: the emergency-management platform of a city in one binary. See `beacon --help`.

mod commands;
mod config;
mod demo;
mod demo_danger;
mod demo_duty;
mod demo_enterprise;
mod demo_incident;
mod demo_tipoff;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use beacon_api::CookieSecure;
use clap::{Parser, Subcommand};

use crate::config::{LogFormat, Overrides};

/// mimalloc returns freed memory to the system; with glibc's allocator the 19 MiB Argon2 blocks of
/// a burst of sign-ins stayed resident for good (hundreds of MiB after a load test).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(name = "beacon", version, about = "Beacon: the emergency-management platform of a city")]
struct Cli {
    /// TOML configuration file (flags and BEACON_* variables take precedence over it).
    #[arg(long, global = true, env = "BEACON_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// sqlite://PATH (default: DATA_DIR/beacon.db) or postgres://USER@HOST/DATABASE.
    #[arg(long = "database", global = true, env = "BEACON_DATABASE_URL", value_name = "URL")]
    database_url: Option<String>,
    /// Where Beacon keeps its files (default ./data).
    #[arg(long, global = true, env = "BEACON_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Log lines as text or JSON.
    #[arg(long, global = true, env = "BEACON_LOG_FORMAT", value_enum)]
    log_format: Option<LogFormat>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (applies pending migrations first).
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long, env = "BEACON_LISTEN", value_name = "ADDR")]
        listen: Option<SocketAddr>,
        /// Serve Prometheus metrics on this separate address.
        #[arg(long, env = "BEACON_METRICS_LISTEN", value_name = "ADDR")]
        metrics_listen: Option<SocketAddr>,
        /// The origin browsers use when it differs from the Host header behind a proxy.
        #[arg(long, env = "BEACON_PUBLIC_ORIGIN", value_name = "URL")]
        public_origin: Option<String>,
        /// Intranet map tile URL template (https://tiles.example/{z}/{x}/{y}.png).
        #[arg(long, env = "BEACON_TILE_URL", value_name = "URL")]
        tile_url: Option<String>,
        /// Comma-separated reverse proxies (IPs or CIDR ranges) whose X-Forwarded-* are believed.
        #[arg(long, env = "BEACON_TRUSTED_PROXIES", value_name = "LIST")]
        trusted_proxies: Option<String>,
        /// When the session cookie is marked Secure.
        #[arg(long, env = "BEACON_COOKIE_SECURE", value_enum)]
        cookie_secure: Option<CookieSecureArg>,
        /// NATS server(s) for live events between instances (nats://host:4222); without it
        /// events stay within this instance.
        #[arg(long, env = "BEACON_BUS_URL", value_name = "URL")]
        bus_url: Option<String>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create an administrator account; the password is read from standard input.
    CreateAdmin {
        #[arg(long)]
        username: String,
        /// Which of the three separated administrators.
        #[arg(long, value_enum, default_value = "system-admin")]
        role: AdminRole,
        #[arg(long)]
        display_name: Option<String>,
        /// Unit code of the account (default: the root unit).
        #[arg(long, value_name = "CODE")]
        unit: Option<String>,
        /// On an empty database, the code of the root unit to create.
        #[arg(long, default_value = "root", value_name = "CODE")]
        root_code: String,
        /// On an empty database, the name of the root unit to create.
        #[arg(long, default_value = "本级单位", value_name = "NAME")]
        root_name: String,
    },
    /// Create a user in a unit with one or more roles; the password is read from standard input.
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long, value_name = "CODE")]
        unit: String,
        /// A role (repeat for several): duty_officer, duty_leader, leader, inspector,
        /// petition_officer, staff, enterprise, system_admin, security_admin, audit_admin, viewer.
        #[arg(long = "role", required = true, value_name = "ROLE")]
        roles: Vec<String>,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        phone: Option<String>,
    },
    /// Set a new password for an account (read from standard input); it must be changed at the
    /// next sign-in. The way to recover an administrator account.
    ResetPassword {
        #[arg(long)]
        username: String,
    },
    /// Add the demo city, its units and one user per role (keeps existing data).
    SeedDemo,
    /// Walk the audit trail's hash chain; exits non-zero naming the first altered or removed record.
    AuditVerify,
    /// Write an online copy of the SQLite database (for PostgreSQL, use pg_dump).
    Backup {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Print the OpenAPI document.
    ExportOpenapi {
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Check the configuration, the data directory and the database, and print the result.
    CheckConfig,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum CookieSecureArg {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum AdminRole {
    SystemAdmin,
    SecurityAdmin,
    AuditAdmin,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut overrides = Overrides {
        config_file: cli.config.clone(),
        database_url: cli.database_url.clone(),
        data_dir: cli.data_dir.clone(),
        log_format: cli.log_format,
        ..Overrides::default()
    };
    if let Command::Serve {
        listen,
        metrics_listen,
        public_origin,
        tile_url,
        trusted_proxies,
        cookie_secure,
        bus_url,
    } = &cli.command
    {
        overrides.bus_url = bus_url.clone();
        overrides.listen = *listen;
        overrides.metrics_listen = *metrics_listen;
        overrides.public_origin = public_origin.clone();
        overrides.tile_url = tile_url.clone();
        overrides.trusted_proxies = trusted_proxies.clone();
        overrides.cookie_secure = cookie_secure.map(|c| match c {
            CookieSecureArg::Auto => CookieSecure::Auto,
            CookieSecureArg::Always => CookieSecure::Always,
            CookieSecureArg::Never => CookieSecure::Never,
        });
    }
    let config = match config::Config::load(&overrides) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("beacon: {error:#}");
            return ExitCode::from(2);
        }
    };
    commands::init_logging(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("beacon: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli.command, config)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("beacon: {error:#}");
            ExitCode::FAILURE
        }
    }
}
