//! The hidden-danger ledger's workbench cards, for its regulators (holders of
//! `ManageEnterprises`) and for an enterprise's own account: the open ones past their deadline,
//! the listed ones (挂牌督办), and the ones waiting for the caller's side (a plan to review and a
//! fix to accept for the regulator; a plan to write and a rectification to finish for the
//! enterprise). Each card reads the ledger with the same reach as `/hazards` and shows only when
//! it has something; "view all" opens the ledger with the same filter.

use beacon_core::danger::{DangerLevel, DangerStatus, ListingLevel};
use beacon_core::org::{Permission, Role};
use beacon_core::page::PageRequest;
use beacon_store::Page;
use beacon_store::danger::{Danger, DangerFilter};
use futures::future::BoxFuture;

use crate::AppState;
use crate::enterprise::read_reach;
use crate::http::ApiResult;
use crate::org::Principal;
use crate::workbench::{Card, Item, Level, day_start};

const FIRST: PageRequest = PageRequest { page: 1, per_page: 5 };

/// A hidden danger on a card: the enterprise, what was found, its deadline and tags.
fn item(d: &Danger, level: Level) -> Item {
    let mut item = Item::new(d.enterprise_name.clone())
        .detail(format!("{} {}", d.number, d.description))
        .at(day_start(d.deadline))
        .level(level)
        .tag(d.level.as_str())
        .tag(d.status.as_str())
        .link(format!("/hazards/{}", d.id));
    if d.overdue {
        item = item.tag("overdue");
    }
    match d.listed_level {
        Some(ListingLevel::City) => item.tag("listed_city"),
        Some(ListingLevel::District) => item.tag("listed_district"),
        None => item,
    }
}

fn items(page: &Page<Danger>, level: impl Fn(&Danger) -> Level) -> Vec<Item> {
    page.items.iter().map(|d| item(d, level(d))).collect()
}

pub(crate) fn workbench_cards<'a>(
    state: &'a AppState,
    principal: &'a Principal,
) -> BoxFuture<'a, ApiResult<Vec<Card>>> {
    Box::pin(async move {
        let own = principal.roles.contains(&Role::Enterprise);
        if !own && !principal.can(Permission::ManageEnterprises) {
            return Ok(Vec::new());
        }
        let reach = read_reach(state, principal).await?;
        let store = state.store();
        let with =
            |status: DangerStatus| DangerFilter { status: Some(status), ..Default::default() };
        // What waits for the caller's side.
        let (first, second) = if own {
            (DangerStatus::AwaitingPlan, DangerStatus::Rectifying)
        } else {
            (DangerStatus::PlanSubmitted, DangerStatus::AwaitingAcceptance)
        };
        let overdue = DangerFilter { overdue: true, ..Default::default() };
        let overdue_major = DangerFilter { level: Some(DangerLevel::Major), ..overdue.clone() };
        let listed = DangerFilter { open: true, listed: true, ..Default::default() };
        let (waiting, then) = (with(first), with(second));
        let (overdue, overdue_major, listed, first_page, second_page) = futures::try_join!(
            store.dangers(&reach, &overdue, FIRST),
            store.dangers(&reach, &overdue_major, PageRequest { page: 1, per_page: 1 }),
            store.dangers(&reach, &listed, FIRST),
            store.dangers(&reach, &waiting, FIRST),
            store.dangers(&reach, &then, FIRST),
        )?;
        let mut cards = Vec::new();
        if overdue.total > 0 {
            cards.push(
                Card::new("danger.overdue", overdue.total, items(&overdue, |_| Level::Danger))
                    .figure("major", overdue_major.total)
                    .figure("general", overdue.total - overdue_major.total),
            );
        }
        if listed.total > 0 {
            let level = |d: &Danger| if d.overdue { Level::Danger } else { Level::Warning };
            cards.push(Card::new("danger.listed", listed.total, items(&listed, level)));
        }
        let count = first_page.total + second_page.total;
        if count > 0 {
            let level = |d: &Danger| if d.overdue { Level::Danger } else { Level::Warning };
            let mut all = items(&first_page, level);
            all.extend(items(&second_page, level));
            cards.push(
                Card::new("danger.to_handle", count, all)
                    .figure(first.as_str(), first_page.total)
                    .figure(second.as_str(), second_page.total),
            );
        }
        Ok(cards)
    })
}
