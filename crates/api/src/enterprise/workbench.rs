//! The register's workbench cards, for its regulators (holders of `ManageEnterprises`) and for
//! an enterprise's own account: licences expired or expiring within 30 days, major hazard
//! sources not filed, and risk points whose review is late. Each card reads the ledger behind
//! it (same reach, same scope) and shows only when it has something; "view all" opens that
//! ledger with the same filter.

use beacon_core::enterprise::RiskColour;
use beacon_core::org::{Permission, Role};
use beacon_core::page::PageRequest;
use beacon_store::enterprise::{HazardSourceFilter, LicenceFilter, RiskPointFilter};
use futures::future::BoxFuture;

use super::read_reach;
use crate::AppState;
use crate::http::ApiResult;
use crate::org::Principal;
use crate::workbench::{Card, Item, Level, day_start};

/// Licences expiring within this many days are on the card: the last reminder's distance
/// (the reminders are 90 and 30 days before; the ledger shows the 90).
const LICENCE_SOON_DAYS: u32 = 30;

const FIRST: PageRequest = PageRequest { page: 1, per_page: 5 };

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
        let link = |id: &str, tab: &str| format!("/enterprises/{id}?tab={tab}");
        let mut cards = Vec::new();

        let expired = LicenceFilter { state: Some("expired".into()), ..LicenceFilter::default() };
        let soon = LicenceFilter {
            state: Some("expiring".into()),
            within_days: Some(LICENCE_SOON_DAYS),
            ..LicenceFilter::default()
        };
        let (expired, soon) = futures::try_join!(
            store.licence_ledger(&reach, &expired, FIRST),
            store.licence_ledger(&reach, &soon, FIRST)
        )?;
        let count = expired.total + soon.total;
        if count > 0 {
            let items = expired
                .items
                .iter()
                .map(|r| (r, Level::Danger, "expired"))
                .chain(soon.items.iter().map(|r| (r, Level::Warning, "expiring")))
                .map(|(r, level, tag)| {
                    Item::new(r.enterprise_name.clone())
                        .detail(r.licence.number.clone())
                        .at(day_start(r.licence.expires_on))
                        .level(level)
                        .tag(format!("licence:{}", r.licence.kind))
                        .tag(tag)
                        .link(link(&r.licence.enterprise_id, "licences"))
                })
                .collect();
            cards.push(
                Card::new("enterprise.licences", count, items)
                    .figure("expired", expired.total)
                    .figure("expiring", soon.total),
            );
        }

        let unfiled = HazardSourceFilter { unfiled: true, ..HazardSourceFilter::default() };
        let overdue = RiskPointFilter { review_overdue: true, ..RiskPointFilter::default() };
        let (unfiled, overdue) = futures::try_join!(
            store.hazard_source_ledger(&reach, &unfiled, FIRST),
            store.risk_point_ledger(&reach, &overdue, FIRST)
        )?;
        if unfiled.total > 0 {
            let items = unfiled
                .items
                .iter()
                .map(|r| {
                    let item = Item::new(r.enterprise_name.clone())
                        .detail(r.source.name.clone())
                        .level(Level::Warning)
                        .tag("not_filed")
                        .link(link(&r.source.enterprise_id, "hazards"));
                    match r.source.grade {
                        Some(grade) => item.tag(format!("hazard_grade:{}", grade.as_str())),
                        None => item,
                    }
                })
                .collect();
            cards.push(Card::new("enterprise.sources_unfiled", unfiled.total, items));
        }
        if overdue.total > 0 {
            let items = overdue
                .items
                .iter()
                .map(|r| {
                    let severe = matches!(r.point.colour, RiskColour::Red | RiskColour::Orange);
                    let mut item = Item::new(r.enterprise_name.clone())
                        .detail(r.point.name.clone())
                        .level(if severe { Level::Danger } else { Level::Warning })
                        .tag(format!("colour:{}", r.point.colour.as_str()))
                        .tag("review_overdue")
                        .link(link(&r.point.enterprise_id, "risk"));
                    if let Some(review) = r.point.next_review {
                        item = item.at(day_start(review));
                    }
                    item
                })
                .collect();
            cards.push(Card::new("enterprise.reviews_overdue", overdue.total, items));
        }
        Ok(cards)
    })
}
