//! The workbench (工作台): what the caller must do or know now, as cards. Each module adds its
//! cards through one function listed in [`SOURCES`]; a card shows only what its module would
//! show the caller through its own endpoints (the same permission and the same scope), so the
//! workbench reveals nothing a list would not.

use axum::Json;
use axum::extract::State;
use beacon_core::clock::{china_offset, local_date};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use futures::future::BoxFuture;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::http::{ApiResult, ErrorBody};
use crate::org::Principal;

/// How urgent a card or an item is: its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Nothing to do.
    Ok,
    Info,
    /// Due soon, or not as it should be.
    Warning,
    /// Overdue, missing.
    Danger,
}

/// One card.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Card {
    /// Stable key (`duty.on_duty`, `incident.clocks`…): the web app names, draws and links a
    /// card by it.
    pub key: String,
    /// The most urgent of its items, or of its figure.
    pub level: Level,
    /// The card's figure: people on duty, incidents open, clocks running…
    pub count: i64,
    /// Figures by category, each with a key the web app translates (`grade:serious`,
    /// `checked_in`, `overdue`).
    pub breakdown: Vec<Figure>,
    /// The most urgent records first, at most [`ITEMS`].
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Figure {
    pub key: String,
    pub count: i64,
}

/// A record on a card: what a person reads (a number and a title, a name and a unit), never an
/// internal id, and where it leads.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Item {
    pub title: String,
    pub detail: Option<String>,
    /// The moment that matters: a clock's deadline, a shift's start, a lock's end.
    pub at: Option<DateTime<Utc>>,
    pub level: Level,
    /// Keys the web app translates (`grade:serious`, `hop:county_to_city`, `not_checked_in`).
    pub tags: Vec<String>,
    /// The record's page in the web app (`/incidents/…`).
    pub link: Option<String>,
    /// Something the person can do from the card at once (check in for the running shift).
    pub action: Option<Action>,
}

/// A one-click action on a card's item: the web app shows a button named by `kind` that sends
/// `POST path` (an API path of the module that owns the record, which checks it as ever).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Action {
    /// `check_in`.
    pub kind: String,
    /// `/api/v1/…`.
    pub path: String,
}

impl Item {
    pub fn new(title: impl Into<String>) -> Self {
        Item {
            title: title.into(),
            detail: None,
            at: None,
            level: Level::Info,
            tags: Vec::new(),
            link: None,
            action: None,
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn at(mut self, at: DateTime<Utc>) -> Self {
        self.at = Some(at);
        self
    }

    pub fn level(mut self, level: Level) -> Self {
        self.level = level;
        self
    }

    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    pub fn link(mut self, link: impl Into<String>) -> Self {
        self.link = Some(link.into());
        self
    }

    pub fn action(mut self, kind: &str, path: impl Into<String>) -> Self {
        self.action = Some(Action { kind: kind.to_owned(), path: path.into() });
        self
    }
}

/// Items shown on a card.
pub const ITEMS: usize = 8;

/// Midnight (Beijing) of a calendar day, as the moment a card's item speaks of (a licence's
/// expiry, a hidden danger's deadline).
pub(crate) fn day_start(date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    china_offset()
        .from_local_datetime(&midnight)
        .single()
        .map_or_else(|| Utc.from_utc_datetime(&midnight), |t| t.with_timezone(&Utc))
}

impl Card {
    /// A card of `count` records, the first [`ITEMS`] of `items` (most urgent first), its level
    /// the most urgent of them.
    pub fn new(key: &str, count: i64, mut items: Vec<Item>) -> Self {
        items.sort_by_key(|item| std::cmp::Reverse(item.level));
        items.truncate(ITEMS);
        let level = items.iter().map(|i| i.level).max().unwrap_or(Level::Ok);
        Card { key: key.to_owned(), level, count, breakdown: Vec::new(), items }
    }

    pub fn figure(mut self, key: impl Into<String>, count: i64) -> Self {
        self.breakdown.push(Figure { key: key.into(), count });
        self
    }

    pub fn at_least(mut self, level: Level) -> Self {
        self.level = self.level.max(level);
        self
    }
}

/// What one module shows the caller: nothing when the caller may read none of it.
pub type Source = for<'a> fn(&'a AppState, &'a Principal) -> BoxFuture<'a, ApiResult<Vec<Card>>>;

/// Every module's cards, in the order they are shown. A module adds itself here.
const SOURCES: &[Source] = &[
    crate::duty::workbench_cards,
    crate::incident::workbench_cards,
    crate::enterprise::workbench_cards,
    crate::danger::workbench_cards,
    crate::tipoff::workbench_cards,
    crate::org::workbench_cards,
    crate::audit::workbench_cards,
    crate::calendar::workbench_cards,
];

#[derive(Debug, Serialize, ToSchema)]
pub struct Workbench {
    /// When the cards were computed; the local (Beijing) date they speak of.
    pub at: DateTime<Utc>,
    pub date: chrono::NaiveDate,
    pub cards: Vec<Card>,
}

/// The caller's workbench: per module, the cards of what the caller may read, in their scope.
/// The web app reloads it when a live event arrives.
#[utoipa::path(get, path = "/workbench", tag = "workbench",
    responses((status = 200, body = Workbench), (status = 401, body = ErrorBody)))]
async fn workbench(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Workbench>> {
    let at = state.store().now();
    let mut cards = Vec::new();
    for source in SOURCES {
        cards.extend(source(&state, &principal).await?);
    }
    Ok(Json(Workbench { at, date: local_date(at), cards }))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(workbench))
}
