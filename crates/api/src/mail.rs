//! E-mail: the notification pipeline's outgoing leg. Notifications queue their e-mail in the
//! outbox in the same transaction; this sender delivers the outbox over SMTP and records every
//! attempt, retrying with back-off.
//!
//! Plain SMTP only (with optional AUTH): government intranets relay mail through an internal
//! server, and TLS there, when wanted, is terminated by that relay. lettre is the well-kept SMTP
//! client of the Rust ecosystem.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;

use crate::AppState;

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    /// The sender, e.g. `Beacon <beacon@yjj.example.gov.cn>`.
    pub from: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// The address people open Beacon at (`https://beacon.yjj.example.gov.cn`), so the link in
    /// each e-mail opens its record; without it the mail carries the path alone.
    #[serde(default)]
    pub link_base: Option<String>,
}

fn default_port() -> u16 {
    25
}

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: lettre::message::Mailbox,
    link_base: Option<String>,
}

/// The body with its link made absolute under `base`.
pub fn absolute_links(body: &str, base: Option<&str>) -> String {
    use beacon_core::notify::EMAIL_LINK_LABEL;
    match base.map(|b| b.trim_end_matches('/')).filter(|b| !b.is_empty()) {
        Some(base) => {
            body.replace(&format!("{EMAIL_LINK_LABEL}/"), &format!("{EMAIL_LINK_LABEL}{base}/"))
        }
        None => body.to_owned(),
    }
}

impl Mailer {
    pub fn new(config: &SmtpConfig) -> Result<Self, String> {
        let from = config.from.parse().map_err(|e| format!("smtp.from: {e}"))?;
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.clone())
                .port(config.port)
                .timeout(Some(Duration::from_secs(20)));
        if let (Some(user), Some(password)) = (&config.username, &config.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        if let Some(base) = &config.link_base
            && !(base.starts_with("http://") || base.starts_with("https://"))
        {
            return Err(format!("smtp.link_base: {base:?} is not an http(s) address"));
        }
        Ok(Self { transport: builder.build(), from, link_base: config.link_base.clone() })
    }

    async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), String> {
        let to = to.parse().map_err(|e| format!("address: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(absolute_links(body, self.link_base.as_deref()))
            .map_err(|e| e.to_string())?;
        self.transport.send(message).await.map(|_| ()).map_err(|e| e.to_string())
    }
}

/// Sends what the outbox holds now. Returns how many were sent.
pub async fn send_outbox(
    state: &AppState,
    mailer: &Mailer,
) -> Result<usize, beacon_store::StoreError> {
    let mut sent = 0;
    for mail in state.store().outgoing_mail(50).await? {
        let result = mailer.send(&mail.to, &mail.subject, &mail.body).await;
        if let Err(error) = &result {
            tracing::warn!(%error, attempt = mail.attempts + 1, "e-mail not sent");
        } else {
            sent += 1;
        }
        state.store().record_mail_attempt(&mail.id, result).await?;
    }
    Ok(sent)
}

/// Runs the sender every `every` until shutdown.
pub async fn run(state: AppState, mailer: Mailer, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(error) = send_outbox(&state, &mailer).await {
            tracing::warn!(%error, "mail sender");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_opens_beacon_where_people_open_it() {
        let body = "值班提醒\n\n打开 / Open: /duty/roster?shift=s1\n\n-- Beacon\n";
        assert_eq!(
            absolute_links(body, Some("https://beacon.example.gov.cn/")),
            "值班提醒\n\n打开 / Open: https://beacon.example.gov.cn/duty/roster?shift=s1\n\n-- Beacon\n"
        );
        assert_eq!(absolute_links(body, None), body);
    }
}
