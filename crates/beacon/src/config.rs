//! Configuration: command-line flags, then `BEACON_*` environment variables (clap reads both),
//! then a TOML file (`--config`), then defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use beacon_api::{ApiConfig, CookieSecure};
use beacon_bus::NatsConfig;
use serde::Deserialize;

/// The TOML file's keys; every one optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub database_url: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub metrics_listen: Option<SocketAddr>,
    pub log_format: Option<LogFormat>,
    pub public_origin: Option<String>,
    pub tile_url: Option<String>,
    pub trusted_proxies: Option<Vec<String>>,
    pub cookie_secure: Option<CookieSecure>,
    pub max_connections: Option<u32>,
    pub json_limit_bytes: Option<usize>,
    /// Largest attachment upload (each purpose has its own smaller or equal limit).
    pub upload_limit_bytes: Option<u64>,
    /// Outgoing e-mail for notifications (`[smtp]` with host, port, from, username, password).
    pub smtp: Option<beacon_api::mail::SmtpConfig>,
    /// NATS server(s) for live events between instances.
    pub bus_url: Option<String>,
    /// The JetStream stream's name.
    pub bus_stream: Option<String>,
    /// How long the stream keeps events (a client away longer reloads).
    pub bus_max_age_hours: Option<u64>,
    /// How many events the stream keeps at most.
    pub bus_max_events: Option<i64>,
    /// Seconds a connection has to send a whole request head (also when idle between requests).
    pub header_timeout_secs: Option<u64>,
    /// Open HTTP connections at most.
    pub max_http_connections: Option<usize>,
    /// Seconds requests in flight may take after a shutdown signal.
    pub shutdown_grace_secs: Option<u64>,
    /// The personal-data key file (64 hex digits); by default `personal-data.key` in the data
    /// directory, created on first start. Every instance of a deployment needs the same file.
    pub personal_data_key_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// The effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub metrics_listen: Option<SocketAddr>,
    pub log_format: LogFormat,
    pub max_connections: u32,
    pub api: ApiConfig,
    /// Live events between instances; none: the in-process bus of one instance.
    pub bus: Option<NatsConfig>,
    /// Where the personal-data key is kept.
    pub personal_key_file: PathBuf,
}

/// Values given on the command line or in the environment.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub database_url: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub metrics_listen: Option<SocketAddr>,
    pub log_format: Option<LogFormat>,
    pub public_origin: Option<String>,
    pub tile_url: Option<String>,
    pub trusted_proxies: Option<String>,
    pub cookie_secure: Option<CookieSecure>,
    pub bus_url: Option<String>,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

impl Config {
    pub fn load(overrides: &Overrides) -> Result<Self> {
        let file = match &overrides.config_file {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let data_dir =
            overrides.data_dir.clone().or(file.data_dir).unwrap_or_else(|| PathBuf::from("./data"));
        let database_url = overrides
            .database_url
            .clone()
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("beacon.db").display()));
        beacon_store::Backend::from_url(&database_url)
            .map_err(|e| anyhow::anyhow!("database URL {}: {e}", redact(&database_url)))?;
        let listen = match overrides.listen.or(file.listen) {
            Some(addr) => addr,
            None => DEFAULT_LISTEN.parse().context("default listen address")?,
        };
        let trusted_proxies = match &overrides.trusted_proxies {
            Some(list) => parse_proxies(list.split(',').map(str::trim).filter(|s| !s.is_empty()))?,
            None => parse_proxies(file.trusted_proxies.iter().flatten().map(String::as_str))?,
        };
        let public_origin = overrides.public_origin.clone().or(file.public_origin);
        if let Some(origin) = &public_origin
            && !(origin.starts_with("http://") || origin.starts_with("https://"))
        {
            bail!("public_origin must start with http:// or https://, got {origin}");
        }
        let tile_url = overrides.tile_url.clone().or(file.tile_url);
        if let Some(url) = &tile_url
            && (!(url.starts_with("http://") || url.starts_with("https://"))
                || !url.contains("{z}"))
        {
            bail!(
                "tile_url must be an http(s) URL template with {{z}}, {{x}} and {{y}}, got {url}"
            );
        }
        let json_limit = file.json_limit_bytes.unwrap_or(1024 * 1024);
        if !(1024..=64 * 1024 * 1024).contains(&json_limit) {
            bail!("json_limit_bytes must be between 1 KiB and 64 MiB");
        }
        let upload_limit =
            file.upload_limit_bytes.unwrap_or_else(beacon_core::attachment::largest_size);
        if !(1024 * 1024..=1024 * 1024 * 1024).contains(&upload_limit) {
            bail!("upload_limit_bytes must be between 1 MiB and 1 GiB");
        }
        let header_timeout = file.header_timeout_secs.unwrap_or(10);
        if !(1..=300).contains(&header_timeout) {
            bail!("header_timeout_secs must be between 1 and 300");
        }
        let max_http_connections = file.max_http_connections.unwrap_or(4096);
        if !(16..=100_000).contains(&max_http_connections) {
            bail!("max_http_connections must be between 16 and 100000");
        }
        let shutdown_grace = file.shutdown_grace_secs.unwrap_or(10);
        if shutdown_grace > 600 {
            bail!("shutdown_grace_secs must be at most 600");
        }
        let max_connections = file.max_connections.unwrap_or(8);
        if !(1..=1000).contains(&max_connections) {
            bail!("max_connections must be between 1 and 1000");
        }
        let bus = match overrides.bus_url.clone().or(file.bus_url) {
            None => None,
            Some(url) => {
                if !url.split(',').all(|u| u.trim().starts_with("nats://")) {
                    bail!("bus_url must be nats://HOST:PORT (several: comma-separated), got {url}");
                }
                let mut nats = NatsConfig::new(&url);
                if let Some(stream) = file.bus_stream {
                    if stream.is_empty()
                        || !stream
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                    {
                        bail!("bus_stream must be letters, digits, '_' or '-', got {stream:?}");
                    }
                    nats.stream = stream;
                }
                if let Some(hours) = file.bus_max_age_hours {
                    if !(1..=24 * 90).contains(&hours) {
                        bail!("bus_max_age_hours must be between 1 and 2160");
                    }
                    nats.max_age = std::time::Duration::from_secs(hours * 3600);
                }
                if let Some(events) = file.bus_max_events {
                    if !(1000..=1_000_000_000).contains(&events) {
                        bail!("bus_max_events must be between 1000 and 1000000000");
                    }
                    nats.max_events = events;
                }
                Some(nats)
            }
        };
        let personal_key_file =
            file.personal_data_key_file.unwrap_or_else(|| data_dir.join("personal-data.key"));
        Ok(Self {
            bus,
            personal_key_file,
            database_url,
            data_dir,
            listen,
            metrics_listen: overrides.metrics_listen.or(file.metrics_listen),
            log_format: overrides.log_format.or(file.log_format).unwrap_or(LogFormat::Text),
            max_connections,
            api: ApiConfig {
                json_limit,
                upload_limit,
                trusted_proxies,
                cookie_secure: overrides
                    .cookie_secure
                    .or(file.cookie_secure)
                    .unwrap_or(CookieSecure::Auto),
                public_origin,
                tile_url,
                smtp: file.smtp,
                header_timeout: std::time::Duration::from_secs(header_timeout),
                max_http_connections,
                shutdown_grace: std::time::Duration::from_secs(shutdown_grace),
                ..ApiConfig::default()
            },
        })
    }

    /// Reads the personal-data key file, or creates it (readable by its owner only) with a new
    /// random key when there is none yet.
    pub fn load_personal_key(&mut self) -> Result<()> {
        use beacon_core::personal::PersonalKey;
        let path = &self.personal_key_file;
        let secret = match std::fs::read_to_string(path) {
            Ok(text) => PersonalKey::parse_secret(&text).map_err(|code| {
                anyhow::anyhow!(
                    "personal-data key {}: {code} (64 hex digits expected)",
                    path.display()
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let secret = PersonalKey::new_secret();
                write_private(path, &hex::encode(secret)).with_context(|| {
                    format!("cannot create the personal-data key {}", path.display())
                })?;
                tracing::info!(path = %path.display(), "created a new personal-data key");
                secret
            }
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read {}", path.display()));
            }
        };
        self.api.personal_key = PersonalKey::from_secret(&secret);
        Ok(())
    }

    /// Creates the data directory if needed and proves it writable.
    pub fn check_data_dir(&self) -> Result<()> {
        check_writable(&self.data_dir)
    }

    /// A printable summary with secrets removed.
    pub fn describe(&self) -> String {
        let proxies: Vec<String> =
            self.api.trusted_proxies.iter().map(ToString::to_string).collect();
        format!(
            "database_url     = {}\ndata_dir         = {}\nlisten           = {}\nmetrics_listen   = {}\n\
             log_format       = {:?}\nmax_connections  = {}\npublic_origin    = {}\ntile_url         = {}\n\
             trusted_proxies  = [{}]\ncookie_secure    = {:?}\njson_limit_bytes = {}\nsmtp             = {}\n\
             bus              = {}\nhttp             = header timeout {} s, at most {} connections, \
             shutdown grace {} s",
            redact(&self.database_url),
            self.data_dir.display(),
            self.listen,
            self.metrics_listen.map_or_else(|| "(off)".to_owned(), |a| a.to_string()),
            self.log_format,
            self.max_connections,
            self.api.public_origin.as_deref().unwrap_or("(from Host header)"),
            self.api.tile_url.as_deref().unwrap_or("(none: maps draw Beacon's own GeoJSON only)"),
            proxies.join(", "),
            self.api.cookie_secure,
            self.api.json_limit,
            self.api.smtp.as_ref().map_or_else(
                || "(off: notifications in the app only)".to_owned(),
                |s| format!("{}:{} from {}", s.host, s.port, s.from)
            ),
            self.bus.as_ref().map_or_else(
                || "(in-process: live events stay within this instance)".to_owned(),
                |b| format!(
                    "{} stream {} (keeps {} h, at most {} events)",
                    b.url,
                    b.stream,
                    b.max_age.as_secs() / 3600,
                    b.max_events
                )
            ),
            self.api.header_timeout.as_secs(),
            self.api.max_http_connections,
            self.api.shutdown_grace.as_secs(),
        )
    }
}

fn read_file(path: &Path) -> Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("invalid configuration file {}", path.display()))
}

fn parse_proxies<'a>(items: impl Iterator<Item = &'a str>) -> Result<Vec<ipnet::IpNet>> {
    items
        .map(|item| {
            item.parse::<ipnet::IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .with_context(|| {
                    format!("trusted proxy {item:?} is not an IP address or CIDR range")
                })
        })
        .collect()
}

pub fn check_writable(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    let probe = dir.join(".beacon-write-check");
    std::fs::write(&probe, b"ok")
        .with_context(|| format!("the data directory {} is not writable", dir.display()))?;
    std::fs::remove_file(&probe).ok();
    Ok(())
}

/// Hides the password of a database URL.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let Some((credentials, host)) = rest.split_once('@') else { return url.to_owned() };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// Writes a new file only its owner may read (on Unix; elsewhere the directory's rights apply).
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn precedence_is_flag_then_file_then_default() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("beacon.toml");
        std::fs::write(
            &file,
            "listen = \"0.0.0.0:9000\"\ndata_dir = \"/srv/beacon\"\ntrusted_proxies = [\"10.0.0.0/8\", \"192.168.1.1\"]\n",
        )
        .unwrap();
        let overrides = Overrides {
            config_file: Some(file.clone()),
            listen: Some("127.0.0.1:7000".parse().unwrap()),
            ..Default::default()
        };
        let config = Config::load(&overrides).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:7000");
        assert_eq!(config.data_dir, PathBuf::from("/srv/beacon"));
        assert_eq!(config.database_url, "sqlite:///srv/beacon/beacon.db");
        assert_eq!(config.api.trusted_proxies.len(), 2);
        let defaults = Config::load(&Overrides::default()).unwrap();
        assert_eq!(defaults.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(defaults.database_url, "sqlite://./data/beacon.db");
    }

    #[test]
    fn bad_values_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, "listen = 5\n").unwrap();
        let err =
            Config::load(&Overrides { config_file: Some(file), ..Default::default() }).unwrap_err();
        assert!(format!("{err:#}").contains("invalid configuration file"));
        let err = Config::load(&Overrides {
            database_url: Some("mysql://x".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("database URL"));
        let err = Config::load(&Overrides {
            trusted_proxies: Some("not-an-ip".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("not-an-ip"));
    }

    #[test]
    fn the_bus_and_the_http_limits_come_from_the_file_or_the_flag() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("beacon.toml");
        std::fs::write(
            &file,
            "bus_url = \"nats://10.1.1.5:4222\"\nbus_stream = \"PROV_EVENTS\"\n\
             bus_max_age_hours = 48\nheader_timeout_secs = 5\nshutdown_grace_secs = 20\n",
        )
        .unwrap();
        let config =
            Config::load(&Overrides { config_file: Some(file.clone()), ..Default::default() })
                .unwrap();
        let bus = config.bus.unwrap();
        assert_eq!(bus.url, "nats://10.1.1.5:4222");
        assert_eq!(bus.stream, "PROV_EVENTS");
        assert_eq!(bus.max_age.as_secs(), 48 * 3600);
        assert_eq!(config.api.header_timeout.as_secs(), 5);
        assert_eq!(config.api.shutdown_grace.as_secs(), 20);
        let flagged = Config::load(&Overrides {
            config_file: Some(file),
            bus_url: Some("nats://127.0.0.1:4222".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(flagged.bus.unwrap().url, "nats://127.0.0.1:4222");
        assert!(Config::load(&Overrides::default()).unwrap().bus.is_none());
        let err = Config::load(&Overrides {
            bus_url: Some("http://nats:4222".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("bus_url"));
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgres://beacon:secret@db:5432/beacon"),
            "postgres://beacon:***@db:5432/beacon"
        );
        assert_eq!(redact("postgres://beacon@db/beacon"), "postgres://beacon@db/beacon");
        assert_eq!(redact("sqlite://./data/beacon.db"), "sqlite://./data/beacon.db");
    }

    #[test]
    fn unwritable_data_dir_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, b"x").unwrap();
        let err = check_writable(&file.join("sub")).unwrap_err();
        assert!(err.to_string().contains("cannot create the data directory"));
    }
}
