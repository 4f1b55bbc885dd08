//! Swaps and cover: an officer asks a colleague to take their shift (cover) or to trade shifts
//! (swap). It takes effect only when the colleague accepts and a leader approves; the rules are
//! checked when asked and again at approval, as leave or other shifts may have changed.

use beacon_core::audit::{Actor, NewAuditRecord, Outcome};
use beacon_core::clock::{from_millis, to_millis};
use beacon_core::duty::SlotKind;
use beacon_core::error::ValidationErrors;
use beacon_core::id::new_id;
use beacon_core::org::Role;
use beacon_core::scope::Scope;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa::ToSchema;

use super::roster::{overlapping_shift, unit_name};
use super::{Shift, display_name, unit_in_scope};
use crate::notify::{self, Delivery, NewNotification};
use crate::org::unit_users_with_roles;
use crate::sql::Sql;
use crate::{Store, StoreError, Tx, audit, scope, timeline};

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Swap {
    pub id: String,
    pub unit_id: String,
    pub assignment_id: String,
    pub shift_id: String,
    pub shift_name: String,
    pub shift_starts_at: DateTime<Utc>,
    pub slot_key: String,
    pub requester_id: String,
    pub requester_name: String,
    pub target_user_id: String,
    pub target_name: String,
    /// The colleague's shift given in exchange (a swap); absent for cover.
    pub target_assignment_id: Option<String>,
    pub target_shift_starts_at: Option<DateTime<Utc>>,
    pub reason: String,
    /// `requested`, `accepted`, `declined`, `approved`, `rejected`, `cancelled`.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub responded_at: Option<DateTime<Utc>>,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwapBox {
    /// Asked by me or of me.
    Mine,
    /// Accepted and waiting for a leader, in the caller's scope.
    Approval,
    /// Everything in the caller's scope.
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwapDecision {
    Accept,
    Decline,
    Approve,
    Reject,
    Cancel,
}

const SELECT: &str = "SELECT w.id, w.unit_id, w.assignment_id, a.shift_id, s.shift_name, \
    a.starts_at AS shift_starts_at, a.slot_key, w.requester_id, ru.display_name AS requester_name, \
    w.target_user_id, tu.display_name AS target_name, w.target_assignment_id, \
    ta.starts_at AS target_starts_at, w.reason, w.status, w.created_at, w.responded_at, \
    du.display_name AS decided_by_name, w.decided_at \
    FROM duty_swaps w JOIN duty_assignments a ON a.id = w.assignment_id \
    JOIN duty_shifts s ON s.id = a.shift_id JOIN users ru ON ru.id = w.requester_id \
    JOIN users tu ON tu.id = w.target_user_id \
    LEFT JOIN duty_assignments ta ON ta.id = w.target_assignment_id \
    LEFT JOIN users du ON du.id = w.decided_by WHERE 1 = 1";

fn swap_row(r: &AnyRow) -> Result<Swap, StoreError> {
    Ok(Swap {
        id: r.try_get("id")?,
        unit_id: r.try_get("unit_id")?,
        assignment_id: r.try_get("assignment_id")?,
        shift_id: r.try_get("shift_id")?,
        shift_name: r.try_get("shift_name")?,
        shift_starts_at: from_millis(r.try_get("shift_starts_at")?),
        slot_key: r.try_get("slot_key")?,
        requester_id: r.try_get("requester_id")?,
        requester_name: r.try_get("requester_name")?,
        target_user_id: r.try_get("target_user_id")?,
        target_name: r.try_get("target_name")?,
        target_assignment_id: r.try_get("target_assignment_id")?,
        target_shift_starts_at: r.try_get::<Option<i64>, _>("target_starts_at")?.map(from_millis),
        reason: r.try_get("reason")?,
        status: r.try_get("status")?,
        created_at: from_millis(r.try_get("created_at")?),
        responded_at: r.try_get::<Option<i64>, _>("responded_at")?.map(from_millis),
        decided_by_name: r.try_get("decided_by_name")?,
        decided_at: r.try_get::<Option<i64>, _>("decided_at")?.map(from_millis),
    })
}

/// One side of a swap: an assignment and what the rules need to know about it.
struct Post {
    id: String,
    user_id: String,
    slot_kind: SlotKind,
    shift: Shift,
}

impl Store {
    async fn post(
        &self,
        tx: &mut Tx,
        scope: &Scope,
        assignment_id: &str,
    ) -> Result<Post, StoreError> {
        let row =
            sqlx::query("SELECT shift_id, user_id, slot_kind FROM duty_assignments WHERE id = $1")
                .bind(assignment_id.to_owned())
                .fetch_optional(&mut **tx)
                .await?
                .ok_or(StoreError::NotFound)?;
        let shift_id: String = row.try_get("shift_id")?;
        let kind: String = row.try_get("slot_kind")?;
        Ok(Post {
            id: assignment_id.to_owned(),
            user_id: row.try_get("user_id")?,
            slot_kind: SlotKind::parse(&kind).ok_or(StoreError::Corrupt(kind))?,
            shift: self.shift_in_tx(tx, scope, &shift_id).await?,
        })
    }

    /// Whether `user` may take `post` (giving away `giving`, if any): a member of the unit,
    /// eligible, not on leave, free. Errors go under `field`.
    async fn may_take(
        &self,
        tx: &mut Tx,
        errors: &mut ValidationErrors,
        field: &str,
        user: &str,
        post: &Post,
        giving: Option<&str>,
    ) -> Result<(), StoreError> {
        let rules = self.duty_rules().await?;
        let members = self.people_of(&post.shift.unit_id).await?;
        let Some(member) = members.iter().find(|m| m.user_id == user) else {
            errors.add(field, "not_in_unit");
            return Ok(());
        };
        if !rules.eligible(post.slot_kind, &member.roles) {
            let code = if post.slot_kind == SlotKind::Leader {
                "leader_role_required"
            } else {
                "not_eligible"
            };
            errors.add(field, code);
            return Ok(());
        }
        if post.shift.people.iter().any(|p| p.user_id == user) {
            errors.add(field, "already_on_shift");
            return Ok(());
        }
        let leaves = Store::leaves_of(
            &mut **tx,
            &post.shift.unit_id,
            post.shift.starts_at,
            post.shift.ends_at,
        )
        .await?;
        if leaves.iter().any(|l| l.user_id == user) {
            errors.add(field, "on_leave");
            return Ok(());
        }
        if overlapping_shift(tx, user, &post.shift, giving).await? {
            errors.add(field, "overlapping_shift");
        }
        Ok(())
    }

    /// Checks a swap or cover against the rules now.
    async fn check_swap(
        &self,
        tx: &mut Tx,
        scope: &Scope,
        requester: &str,
        assignment_id: &str,
        target_user: &str,
        target_assignment: Option<&str>,
    ) -> Result<(Post, Option<Post>), StoreError> {
        let now = self.now();
        let post = self.post(tx, scope, assignment_id).await?;
        if post.user_id != requester {
            return Err(StoreError::NotFound);
        }
        if post.shift.status != "published" {
            return Err(StoreError::Conflict("shift_not_published"));
        }
        if post.shift.starts_at <= now {
            return Err(StoreError::Conflict("shift_started"));
        }
        let mut errors = ValidationErrors::new();
        if target_user == requester {
            errors.add("target_user_id", "same_person");
            return Err(StoreError::Invalid(errors));
        }
        let other = match target_assignment {
            None => None,
            Some(id) => match self.post(tx, scope, id).await {
                Ok(p)
                    if p.user_id == target_user
                        && p.shift.unit_id == post.shift.unit_id
                        && p.shift.status == "published"
                        && p.shift.starts_at > now =>
                {
                    Some(p)
                }
                Ok(_) | Err(StoreError::NotFound) => {
                    errors.add("target_assignment_id", "not_swappable");
                    return Err(StoreError::Invalid(errors));
                }
                Err(e) => return Err(e),
            },
        };
        let giving_target = other.as_ref().map(|o| o.id.as_str());
        self.may_take(tx, &mut errors, "target_user_id", target_user, &post, giving_target).await?;
        if let Some(other) = &other {
            self.may_take(
                tx,
                &mut errors,
                "target_assignment_id",
                requester,
                other,
                Some(&post.id),
            )
            .await?;
        }
        errors.into_result().map_err(StoreError::Invalid)?;
        Ok((post, other))
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn request_swap(
        &self,
        scope: &Scope,
        actor: &Actor,
        mail: bool,
        assignment_id: &str,
        target_user_id: &str,
        target_assignment_id: Option<&str>,
        reason: &str,
    ) -> Result<(Swap, Vec<Delivery>), StoreError> {
        let now = self.now();
        let requester = actor.user_id.clone().ok_or(StoreError::Forbidden("person_only"))?;
        let mut tx = self.begin().await?;
        self.backend().serialize(&mut tx, "duty-roster").await?;
        let (post, _) = self
            .check_swap(
                &mut tx,
                scope,
                &requester,
                assignment_id,
                target_user_id,
                target_assignment_id,
            )
            .await?;
        let pending: Option<AnyRow> = sqlx::query(
            "SELECT 1 FROM duty_swaps WHERE (assignment_id = $1 OR target_assignment_id = $1) \
             AND status IN ('requested', 'accepted')",
        )
        .bind(assignment_id.to_owned())
        .fetch_optional(&mut *tx)
        .await?;
        if pending.is_some() {
            return Err(StoreError::Conflict("swap_pending"));
        }
        let id = new_id();
        sqlx::query(
            "INSERT INTO duty_swaps (id, unit_id, assignment_id, requester_id, target_user_id, \
             target_assignment_id, reason, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'requested', $8, $8)",
        )
        .bind(id.clone())
        .bind(post.shift.unit_id.clone())
        .bind(assignment_id.to_owned())
        .bind(requester.clone())
        .bind(target_user_id.to_owned())
        .bind(target_assignment_id.map(str::to_owned))
        .bind(reason.to_owned())
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            now,
            NewAuditRecord::new(actor, "duty.swap_requested", Outcome::Success)
                .target("duty_swap", &id)
                .unit(Some(&post.shift.unit_id))
                .detail(json!({ "target_user_id": target_user_id, "cover": target_assignment_id.is_none() })),
        )
        .await?;
        let unit = unit_name(&mut tx, &post.shift.unit_id).await?;
        let requester_name = display_name(&mut tx, actor).await?;
        let deliveries = notify::send(
            &mut tx,
            now,
            mail,
            vec![NewNotification {
                user_id: target_user_id.to_owned(),
                kind: "duty.swap_requested",
                unit_id: Some(post.shift.unit_id.clone()),
                subject: Some(("duty_swap", id.clone())),
                data: json!({
                    "unit_name": unit,
                    "requester_name": requester_name,
                    "starts_at": post.shift.starts_at,
                    "cover": target_assignment_id.is_none(),
                }),
            }],
        )
        .await?;
        let swap = self.swap_in_tx(&mut tx, scope, &id).await?;
        tx.commit().await?;
        Ok((swap, deliveries))
    }

    async fn swap_in_tx(&self, tx: &mut Tx, scope: &Scope, id: &str) -> Result<Swap, StoreError> {
        let mut sql = Sql::new(SELECT);
        sql.push(" AND w.id = ").bind(id.to_owned());
        scope::filter(&mut sql, scope, "w.unit_id");
        swap_row(&sql.fetch_optional(&mut **tx).await?.ok_or(StoreError::NotFound)?)
    }

    pub async fn swaps(
        &self,
        scope: &Scope,
        user_id: &str,
        which: SwapBox,
    ) -> Result<Vec<Swap>, StoreError> {
        let mut sql = Sql::new(SELECT);
        match which {
            SwapBox::Mine => {
                sql.push(" AND (w.requester_id = ")
                    .bind(user_id.to_owned())
                    .push(" OR w.target_user_id = ")
                    .bind(user_id.to_owned())
                    .push(")");
            }
            SwapBox::Approval => {
                sql.push(" AND w.status = 'accepted'");
            }
            SwapBox::All => {}
        }
        scope::filter(&mut sql, scope, "w.unit_id");
        sql.push(" ORDER BY w.created_at DESC LIMIT 200");
        sql.fetch_all(self.reader()).await?.iter().map(swap_row).collect()
    }

    /// Moves a swap along. Accepting or declining is for the colleague asked, cancelling for
    /// the one who asked, approving or rejecting for a leader of the unit who is neither.
    pub async fn decide_swap(
        &self,
        scope: &Scope,
        actor: &Actor,
        may_approve: bool,
        mail: bool,
        id: &str,
        decision: SwapDecision,
    ) -> Result<(Swap, Vec<Delivery>), StoreError> {
        let now = self.now();
        let me = actor.user_id.clone().ok_or(StoreError::Forbidden("person_only"))?;
        let mut tx = self.begin().await?;
        self.backend().serialize(&mut tx, "duty-roster").await?;
        let swap = self.swap_in_tx(&mut tx, scope, id).await?;
        let (allowed, from, to) = match decision {
            SwapDecision::Accept => (swap.target_user_id == me, "requested", "accepted"),
            SwapDecision::Decline => (swap.target_user_id == me, "requested", "declined"),
            SwapDecision::Cancel => (swap.requester_id == me, "", "cancelled"),
            SwapDecision::Approve | SwapDecision::Reject => {
                if swap.requester_id == me || swap.target_user_id == me {
                    return Err(StoreError::Forbidden("own_swap"));
                }
                let to = if decision == SwapDecision::Approve { "approved" } else { "rejected" };
                (may_approve, "accepted", to)
            }
        };
        if !allowed {
            return Err(StoreError::Forbidden("not_yours_to_decide"));
        }
        let open = if decision == SwapDecision::Cancel {
            swap.status == "requested" || swap.status == "accepted"
        } else {
            swap.status == from
        };
        if !open {
            return Err(StoreError::Conflict("swap_not_open"));
        }
        if decision == SwapDecision::Approve {
            let (post, other) = self
                .check_swap(
                    &mut tx,
                    scope,
                    &swap.requester_id,
                    &swap.assignment_id,
                    &swap.target_user_id,
                    swap.target_assignment_id.as_deref(),
                )
                .await?;
            sqlx::query(
                "UPDATE duty_assignments SET user_id = $1, checked_in_at = NULL WHERE id = $2",
            )
            .bind(swap.target_user_id.clone())
            .bind(post.id.clone())
            .execute(&mut *tx)
            .await?;
            let change = json!({
                "swap_id": swap.id, "from_user_id": swap.requester_id, "from": swap.requester_name,
                "to_user_id": swap.target_user_id, "to": swap.target_name, "slot": swap.slot_key,
            });
            timeline::append(
                &mut tx,
                now,
                actor,
                ("duty_shift", &post.shift.id),
                Some(&post.shift.unit_id),
                "swapped",
                change,
            )
            .await?;
            if let Some(other) = other {
                sqlx::query(
                    "UPDATE duty_assignments SET user_id = $1, checked_in_at = NULL WHERE id = $2",
                )
                .bind(swap.requester_id.clone())
                .bind(other.id.clone())
                .execute(&mut *tx)
                .await?;
                let change = json!({
                    "swap_id": swap.id, "from_user_id": swap.target_user_id, "from": swap.target_name,
                    "to_user_id": swap.requester_id, "to": swap.requester_name,
                });
                timeline::append(
                    &mut tx,
                    now,
                    actor,
                    ("duty_shift", &other.shift.id),
                    Some(&other.shift.unit_id),
                    "swapped",
                    change,
                )
                .await?;
            }
        }
        let mut sql = Sql::new("UPDATE duty_swaps SET status = ");
        sql.bind(to.to_owned()).push(", updated_at = ").bind(to_millis(now));
        match decision {
            SwapDecision::Accept | SwapDecision::Decline => {
                sql.push(", responded_at = ").bind(to_millis(now));
            }
            SwapDecision::Approve | SwapDecision::Reject => {
                sql.push(", decided_by = ")
                    .bind(me.clone())
                    .push(", decided_at = ")
                    .bind(to_millis(now));
            }
            SwapDecision::Cancel => {}
        }
        sql.push(" WHERE id = ").bind(id.to_owned());
        sql.execute(&mut *tx).await?;
        audit::append(
            &mut tx,
            now,
            NewAuditRecord::new(actor, &format!("duty.swap_{to}"), Outcome::Success)
                .target("duty_swap", id)
                .unit(Some(&swap.unit_id)),
        )
        .await?;
        let unit = unit_name(&mut tx, &swap.unit_id).await?;
        let data = json!({
            "unit_name": unit,
            "requester_name": swap.requester_name,
            "target_name": swap.target_name,
            "starts_at": swap.shift_starts_at,
            "status": to,
        });
        let recipients: Vec<(String, &'static str)> = match decision {
            SwapDecision::Accept => {
                unit_users_with_roles(&mut tx, &swap.unit_id, &[Role::DutyLeader, Role::Leader])
                    .await?
                    .into_iter()
                    .filter(|u| *u != swap.requester_id && *u != swap.target_user_id)
                    .map(|u| (u, "duty.swap_awaiting_approval"))
                    .collect()
            }
            SwapDecision::Decline => vec![(swap.requester_id.clone(), "duty.swap_decided")],
            SwapDecision::Cancel => vec![(swap.target_user_id.clone(), "duty.swap_decided")],
            SwapDecision::Approve | SwapDecision::Reject => vec![
                (swap.requester_id.clone(), "duty.swap_decided"),
                (swap.target_user_id.clone(), "duty.swap_decided"),
            ],
        };
        let notes = recipients
            .into_iter()
            .map(|(user_id, kind)| NewNotification {
                user_id,
                kind,
                unit_id: Some(swap.unit_id.clone()),
                subject: Some(("duty_swap", swap.id.clone())),
                data: data.clone(),
            })
            .collect();
        let deliveries = notify::send(&mut tx, now, mail, notes).await?;
        let swap = self.swap_in_tx(&mut tx, scope, id).await?;
        if decision == SwapDecision::Approve {
            super::announce_roster(
                &mut tx,
                now,
                "duty.roster_changed",
                &swap.unit_id,
                Some(&swap.shift_id),
            )
            .await?;
        }
        tx.commit().await?;
        Ok((swap, deliveries))
    }

    /// The unit of a swap, when it is in scope (for checks before deciding).
    pub async fn swap_unit(&self, scope: &Scope, id: &str) -> Result<String, StoreError> {
        let row = sqlx::query("SELECT unit_id FROM duty_swaps WHERE id = $1")
            .bind(id.to_owned())
            .fetch_optional(self.reader())
            .await?
            .ok_or(StoreError::NotFound)?;
        let unit: String = row.try_get("unit_id")?;
        unit_in_scope(self.reader(), scope, &unit).await?;
        Ok(unit)
    }
}
