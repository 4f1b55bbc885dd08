//! The working-day calendar's data: the years Beacon ships with, overridden and extended by the
//! years an administrator enters.

use std::collections::BTreeMap;

use beacon_core::audit::{Actor, NewAuditRecord, Outcome};
use beacon_core::calendar::{HolidayYear, WorkCalendar, builtin_years};
use beacon_core::clock::to_millis;
use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use utoipa::ToSchema;

use crate::{Store, StoreError, audit};

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CalendarYear {
    #[serde(flatten)]
    pub year: HolidayYear,
    /// `builtin` (shipped with Beacon) or `edited` (entered by an administrator).
    pub source: &'static str,
}

fn dates(text: &str) -> Result<Vec<NaiveDate>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("calendar year: {e}")))
}

impl Store {
    pub async fn calendar_years(&self) -> Result<Vec<CalendarYear>, StoreError> {
        let mut years: BTreeMap<i32, CalendarYear> = builtin_years()
            .into_iter()
            .map(|y| (y.year, CalendarYear { year: y, source: "builtin" }))
            .collect();
        let rows = sqlx::query("SELECT year, holidays, workdays FROM calendar_years")
            .fetch_all(self.reader())
            .await?;
        for r in rows {
            let year = i32::try_from(r.try_get::<i64, _>("year")?)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let holidays = dates(&r.try_get::<String, _>("holidays")?)?;
            let workdays = dates(&r.try_get::<String, _>("workdays")?)?;
            years.insert(
                year,
                CalendarYear { year: HolidayYear { year, holidays, workdays }, source: "edited" },
            );
        }
        Ok(years.into_values().collect())
    }

    pub async fn work_calendar(&self) -> Result<WorkCalendar, StoreError> {
        Ok(WorkCalendar::new(self.calendar_years().await?.into_iter().map(|y| y.year)))
    }

    /// Saves a year's arrangement (validated by the caller with `HolidayYear::validate`).
    pub async fn set_calendar_year(
        &self,
        actor: &Actor,
        year: HolidayYear,
    ) -> Result<CalendarYear, StoreError> {
        let now = self.now();
        let text = |d: &[NaiveDate]| serde_json::to_string(d).unwrap_or_else(|_| "[]".into());
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO calendar_years (year, holidays, workdays, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (year) DO UPDATE \
             SET holidays = $2, workdays = $3, updated_at = $4, updated_by = $5",
        )
        .bind(i64::from(year.year))
        .bind(text(&year.holidays))
        .bind(text(&year.workdays))
        .bind(to_millis(now))
        .bind(actor.user_id.clone())
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            now,
            NewAuditRecord::new(actor, "calendar.year_set", Outcome::Success)
                .target("calendar_year", &year.year.to_string())
                .detail(
                    json!({ "holidays": year.holidays.len(), "workdays": year.workdays.len() }),
                ),
        )
        .await?;
        tx.commit().await?;
        Ok(CalendarYear { year, source: "edited" })
    }

    /// Forgets an edited year: the shipped data (if any) applies again.
    pub async fn reset_calendar_year(&self, actor: &Actor, year: i32) -> Result<(), StoreError> {
        let now = self.now();
        let mut tx = self.begin().await?;
        let n = sqlx::query("DELETE FROM calendar_years WHERE year = $1")
            .bind(i64::from(year))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        audit::append(
            &mut tx,
            now,
            NewAuditRecord::new(actor, "calendar.year_reset", Outcome::Success)
                .target("calendar_year", &year.to_string()),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
