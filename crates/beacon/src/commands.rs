//! The subcommands.

use std::io::{IsTerminal, Read};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use beacon_api::{AppState, Passwords};
use beacon_bus::{InProcessBus, NatsBus, SharedBus};
use beacon_core::audit::Actor;
use beacon_core::clock::{SharedClock, SystemClock};
use beacon_core::org::{
    DisplayName, Phone, Role, UnitCode, UnitLevel, UnitName, Username, validate_roles,
};
use beacon_core::scope::Scope;
use beacon_store::audit::ChainStatus;
use beacon_store::org::{NewUnit, NewUser, PasswordSetter};
use beacon_store::{Backend, ConnectOptions, Store, StoreError};
use tokio::net::TcpListener;

use crate::config::{Config, LogFormat, redact};
use crate::{AdminRole, Command, demo};

/// Exit code of `audit-verify` when the chain is broken.
const EXIT_AUDIT_BROKEN: u8 = 3;

pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("BEACON_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

pub async fn run(command: Command, config: Config) -> Result<ExitCode> {
    match command {
        Command::Serve { .. } => serve(config).await,
        Command::Migrate => {
            let store = open(&config).await?;
            println!("migrations applied ({})", store.backend().name());
            Ok(ExitCode::SUCCESS)
        }
        Command::CreateAdmin { username, role, display_name, unit, root_code, root_name } => {
            let role = match role {
                AdminRole::SystemAdmin => Role::SystemAdmin,
                AdminRole::SecurityAdmin => Role::SecurityAdmin,
                AdminRole::AuditAdmin => Role::AuditAdmin,
            };
            let store = open(&config).await?;
            // The password first: a refused one leaves nothing behind (not even the root unit).
            let password_hash = read_checked_password(&store, &username).await?;
            let unit_id = match unit {
                Some(code) => unit_by_code(&store, &code).await?,
                None => root_unit(&store, &root_code, &root_name).await?,
            };
            let account = Account { username, display_name, phone: None, roles: vec![role] };
            create_account(&store, account, &unit_id, password_hash, false).await
        }
        Command::CreateUser { username, unit, roles, display_name, phone } => {
            let roles = roles
                .iter()
                .map(|r| Role::parse(r).with_context(|| format!("unknown role {r:?}")))
                .collect::<Result<Vec<_>>>()?;
            let store = open(&config).await?;
            let unit_id = unit_by_code(&store, &unit).await?;
            let policy = store.security_policy().await?;
            let password_hash = read_checked_password(&store, &username).await?;
            let account = Account { username, display_name, phone, roles };
            create_account(
                &store,
                account,
                &unit_id,
                password_hash,
                policy.force_change_on_first_login,
            )
            .await
        }
        Command::ResetPassword { username } => {
            let store = open(&config).await?;
            let name =
                Username::parse(&username).map_err(|code| anyhow::anyhow!("username: {code}"))?;
            let user = match store.get_user_by_username(&Scope::Global, name.as_str()).await {
                Ok(user) => user,
                Err(StoreError::NotFound) => bail!("no account named {username}"),
                Err(e) => return Err(e.into()),
            };
            let hash = read_checked_password(&store, name.as_str()).await?;
            store
                .set_password(
                    &Scope::Global,
                    &Actor::system("reset-password"),
                    &user.id,
                    hash,
                    PasswordSetter::Admin { must_change: true },
                )
                .await?;
            println!("password of {} reset; it must be changed at the next sign-in", user.username);
            Ok(ExitCode::SUCCESS)
        }
        Command::SeedDemo => {
            let mut config = config;
            let store = open(&config).await?;
            bind_personal_key(&mut config, &store).await?;
            let passwords = Passwords::new(Default::default())?;
            demo::seed(&store, &passwords, &config.api.personal_key).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::AuditVerify => {
            let store = open(&config).await?;
            match store.verify_audit_chain().await? {
                ChainStatus::Intact { records, head_hash } => {
                    println!("audit trail intact: {records} records, head {head_hash}");
                    Ok(ExitCode::SUCCESS)
                }
                ChainStatus::Broken(broken) => {
                    eprintln!("audit trail BROKEN: {broken}");
                    Ok(ExitCode::from(EXIT_AUDIT_BROKEN))
                }
            }
        }
        Command::Backup { out } => {
            if out.exists() {
                bail!("{} exists; refusing to overwrite it", out.display());
            }
            let store = open(&config).await?;
            if store.backend() == Backend::Postgres {
                eprintln!(
                    "beacon: backups of PostgreSQL are made with PostgreSQL's own tools, for example\n  \
                     pg_dump --format=custom --file=beacon.dump '{}'\nand restored with pg_restore.",
                    redact(&config.database_url)
                );
                return Ok(ExitCode::from(2));
            }
            store.backup_sqlite(&out).await?;
            println!("backup written to {}", out.display());
            println!(
                "the personal-data key {} is not in it: keep a copy apart (README, \"Backup and restore\")",
                config.personal_key_file.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::ExportOpenapi { out } => {
            let document = beacon_api::openapi::document();
            match out {
                Some(path) => std::fs::write(&path, document + "\n")
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => println!("{document}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::CheckConfig => {
            println!("{}", config.describe());
            config.check_data_dir()?;
            println!("data directory: writable");
            let store = connect(&config).await?;
            store.ping().await?;
            println!("database: reachable ({})", store.backend().name());
            if let Some(warning) = store.text_search_warning().await? {
                println!("database: warning: {warning}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn connect(config: &Config) -> Result<Store> {
    let clock: SharedClock = Arc::new(SystemClock);
    let options = ConnectOptions {
        max_connections: config.max_connections,
        files_dir: Some(config.data_dir.join("files")),
        ..ConnectOptions::default()
    };
    Store::connect(&config.database_url, &options, clock)
        .await
        .with_context(|| format!("cannot open the database {}", redact(&config.database_url)))
}

/// Connects and brings the schema up to date.
async fn open(config: &Config) -> Result<Store> {
    config.check_data_dir()?;
    let store = connect(config).await?;
    store.migrate().await.context("cannot apply the database migrations")?;
    if let Some(warning) = store.text_search_warning().await? {
        tracing::warn!("{warning}");
    }
    Ok(store)
}

async fn unit_by_code(store: &Store, code: &str) -> Result<String> {
    match store.get_unit_by_code(&Scope::Global, code).await {
        Ok(unit) => Ok(unit.id),
        Err(StoreError::NotFound) => bail!("no unit with code {code}"),
        Err(e) => Err(e.into()),
    }
}

/// The root of the tree, created when the database has no unit yet.
async fn root_unit(store: &Store, code: &str, name: &str) -> Result<String> {
    if let Some(root) =
        store.list_units(&Scope::Global).await?.into_iter().find(|u| u.parent_id.is_none())
    {
        return Ok(root.id);
    }
    let unit = store
        .create_unit(
            &Scope::Global,
            &Actor::system("create-admin"),
            NewUnit {
                parent_id: None,
                code: UnitCode::parse(code).map_err(|c| anyhow::anyhow!("root code: {c}"))?,
                name: UnitName::parse(name).map_err(|c| anyhow::anyhow!("root name: {c}"))?,
                level: UnitLevel::City,
                sort_order: 0,
                boundary: None,
            },
        )
        .await?;
    println!("created the root unit {} ({})", unit.name, unit.code);
    Ok(unit.id)
}

struct Account {
    username: String,
    display_name: Option<String>,
    phone: Option<String>,
    roles: Vec<Role>,
}

async fn create_account(
    store: &Store,
    account: Account,
    unit_id: &str,
    password_hash: String,
    must_change_password: bool,
) -> Result<ExitCode> {
    let name =
        Username::parse(&account.username).map_err(|code| anyhow::anyhow!("username: {code}"))?;
    let display = DisplayName::parse(account.display_name.as_deref().unwrap_or(name.as_str()))
        .map_err(|code| anyhow::anyhow!("display name: {code}"))?;
    let phone = account
        .phone
        .map(|p| Phone::parse(&p).map_err(|code| anyhow::anyhow!("phone: {code}")))
        .transpose()?;
    let roles = validate_roles(&account.roles).map_err(|code| anyhow::anyhow!("roles: {code}"))?;
    let user = store
        .create_user(
            &Scope::Global,
            &Actor::system("create-user"),
            NewUser {
                username: name,
                display_name: display,
                phone,
                unit_id: unit_id.to_owned(),
                roles: roles.clone(),
                password_hash,
                must_change_password,
            },
        )
        .await
        .map_err(|e| match e {
            StoreError::Invalid(errors) => anyhow::anyhow!("refused: {errors}"),
            other => other.into(),
        })?;
    let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    println!(
        "created {} ({}) in {} with roles {}",
        user.username,
        user.display_name,
        user.unit.name,
        roles.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

/// Reads a password from standard input (prompting twice without echo on a terminal), checks it
/// against the security policy and hashes it. Passwords never come from the command line, where
/// other users could read them in the process list.
async fn read_checked_password(store: &Store, username: &str) -> Result<String> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let second = rpassword::prompt_password("Repeat password: ")?;
        if first != second {
            bail!("the two passwords differ");
        }
        first
    } else {
        let mut input = String::new();
        std::io::stdin()
            .read_to_string(&mut input)
            .context("cannot read the password from stdin")?;
        input.lines().next().unwrap_or("").to_owned()
    };
    let policy = store.security_policy().await?;
    if let Err(rule) = policy.check_password(&password, username) {
        bail!(
            "the password does not meet the policy ({}): at least {} characters using {} of: \
             lowercase, uppercase, digits, other",
            rule.code(),
            policy.password_min_length,
            policy.password_min_classes
        );
    }
    Ok(Passwords::new(Default::default())?.hash(password).await?)
}

/// Loads the personal-data key and checks that it is the one the database's personal data is
/// sealed with (the first start records it).
async fn bind_personal_key(config: &mut Config, store: &Store) -> Result<()> {
    config.load_personal_key()?;
    let fingerprint = config.api.personal_key.keyed_hash("fingerprint", "beacon");
    if !store.check_personal_key(&fingerprint).await? {
        anyhow::bail!(
            "the personal-data key {} is not the one this database's personal data is sealed \
             with; every instance needs the same key file (docs/tipoffs.md)",
            config.personal_key_file.display()
        );
    }
    Ok(())
}

async fn serve(mut config: Config) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let store = open(&config).await?;
    bind_personal_key(&mut config, &store).await?;
    if let Some(addr) = config.metrics_listen {
        start_metrics(addr).await?;
    }
    let bus: SharedBus = match &config.bus {
        Some(nats) => NatsBus::connect(nats.clone()).await?,
        None => Arc::new(InProcessBus::new(store.clock().clone())),
    };
    let state = AppState::new(store.clone(), bus, config.api.clone())?;
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let maintenance = store.clone();
    tokio::spawn(async move {
        // The first tick is immediate: statistics are fresh from start-up on.
        let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
        loop {
            every_hour.tick().await;
            if let Err(error) = maintenance.optimize().await {
                tracing::warn!(%error, "refreshing query statistics failed");
            }
            // Fragments of names made of common trigrams are read by the names of their
            // rarest one: the trigrams that should be so indexed, counted again.
            if let Err(error) = maintenance.index_register_text().await {
                tracing::warn!(%error, "indexing the register's text failed");
            }
            if let Err(error) = maintenance.prune_sessions().await {
                tracing::warn!(%error, "pruning ended sessions failed");
            }
            // Uploads a crash left in the spool; none lasts a day.
            match maintenance.prune_spool(Duration::from_secs(24 * 3600)).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(files = n, "removed uploads left in the spool"),
                Err(error) => tracing::warn!(%error, "pruning the upload spool failed"),
            }
        }
    });
    // Reminders, check-in alerts and every other clock: a pass every 15 seconds, so a stage
    // fires at most that late.
    tokio::spawn(beacon_api::notify::scheduler(state.clone(), Duration::from_secs(15)));
    if let Some(smtp) = &config.api.smtp {
        let mailer = beacon_api::mail::Mailer::new(smtp).map_err(anyhow::Error::msg)?;
        tokio::spawn(beacon_api::mail::run(state.clone(), mailer, Duration::from_secs(30)));
    }
    tracing::info!(
        listen = %config.listen,
        database = store.backend().name(),
        startup_ms = started.elapsed().as_millis() as u64,
        "Beacon is serving"
    );
    beacon_api::serve(listener, state, shutdown_signal()).await.context("server failed")?;
    store.close().await;
    tracing::info!("Beacon stopped");
    Ok(ExitCode::SUCCESS)
}

async fn start_metrics(addr: SocketAddr) -> Result<()> {
    let handle = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .context("cannot install the metrics recorder")?;
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} for metrics"))?;
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(10));
        loop {
            tick.tick().await;
            upkeep.run_upkeep();
        }
    });
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let handle = handle.clone();
            async move { handle.render() }
        }),
    );
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "metrics listener failed");
        }
    });
    tracing::info!(%addr, "metrics at /metrics");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
