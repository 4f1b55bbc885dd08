//! Importing an office's existing hidden-danger ledger (隐患排查治理台账) from its workbook
//! (docs/imports.md, docs/hazards.md): one row per hidden danger, known by its enterprise and the
//! number the old ledger gave it (原台账编号). A new one is recorded in the state the ledger
//! says, an open one with its rectification clock (stages already past are not fired: an old
//! overdue one is overdue on the ledger at once, without a burst of alerts); one imported before
//! is left alone when the row says the same, updated when only its words differ, and refused when
//! its level, origin, dates or state differ (those change through its own steps in Beacon).

use beacon_core::audit::Actor;
use beacon_core::clock::china_offset;
use beacon_core::danger::{DangerStatus, LedgerState, imported_status, ledger_words};
use beacon_core::scope::Scope;
use beacon_core::text::plain_text;
use beacon_export::sheet::{Column, Row};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value, json};

use super::{Danger, DangerWrite, SELECT, danger_of, deadline, insert_danger};
use crate::enterprise::{Reach, Reached, start_of, today};
use crate::imports::{ImportKind, RowOutcome, add_errors, column, date_in, required_date};
use crate::sql::Sql;
use crate::{Store, StoreError, Tx, timeline};

/// The columns of a hidden-danger ledger, in the template's order.
pub static DANGER_IMPORT_COLUMNS: [Column; 14] = [
    column(
        "uscc",
        "统一社会信用代码",
        "Unified social credit code",
        &["信用代码", "社会信用代码", "企业信用代码"],
        true,
        (
            "隐患所在企业的代码；企业须已在档案中且在本单位辖区内",
            "The enterprise's code; it must be registered in your scope",
        ),
    ),
    column(
        "source_number",
        "原台账编号",
        "Ledger number",
        &["隐患编号", "台账编号", "原编号"],
        true,
        (
            "原台账中的编号，同一企业内唯一；再次导入时据此识别",
            "The number in your old ledger, unique per enterprise; a second import finds it by this",
        ),
    ),
    column(
        "level",
        "隐患等级",
        "Level",
        &["隐患级别", "等级"],
        true,
        ("一般 或 重大", "一般 (general) or 重大 (major)"),
    ),
    column(
        "category",
        "隐患类别",
        "Category",
        &["隐患类型", "类别"],
        true,
        ("基础管理类 或 现场管理类", "基础管理类 (management) or 现场管理类 (site)"),
    ),
    column(
        "origin",
        "隐患来源",
        "Found by",
        &["来源", "排查方式", "发现方式"],
        true,
        (
            "执法检查、企业自查、专项整治、举报、事故调查 之一",
            "执法检查, 企业自查, 专项整治, 举报 or 事故调查",
        ),
    ),
    column(
        "place",
        "隐患部位",
        "Place",
        &["部位", "隐患位置", "场所"],
        true,
        ("车间、装置或岗位", "Workshop, installation or post"),
    ),
    column(
        "description",
        "隐患描述",
        "Description",
        &["隐患内容", "隐患情况", "问题描述"],
        true,
        ("", ""),
    ),
    column(
        "criterion",
        "判定依据",
        "Criterion",
        &["依据", "判定标准"],
        false,
        ("重大隐患必填，如 工贸企业重大事故隐患判定标准 第四条（一）", "Required for a major one"),
    ),
    column(
        "found_on",
        "发现日期",
        "Found on",
        &["排查日期", "检查日期", "发现时间"],
        true,
        ("日期，如 2026-03-01", "A date such as 2026-03-01"),
    ),
    column(
        "deadline",
        "整改期限",
        "Deadline",
        &["整改时限", "整改完成期限", "限期整改日期"],
        true,
        ("日期，不早于发现日期", "A date, not before the day it was found"),
    ),
    column("responsible_person", "整改责任人", "Responsible person", &["责任人"], false, ("", "")),
    column(
        "state",
        "整改状态",
        "State",
        &["状态", "整改情况"],
        true,
        (
            "整改中、待验收 或 已销号；重大隐患整改中的，导入后在系统中填报治理方案",
            "整改中 (open), 待验收 (awaiting acceptance) or 已销号 (closed); an open major one \
             then needs its plan entered in Beacon",
        ),
    ),
    column(
        "closed_on",
        "销号日期",
        "Closed on",
        &["验收日期", "整改完成日期"],
        false,
        ("已销号的必填", "Required for a closed one"),
    ),
    column(
        "closed_by",
        "验收人",
        "Accepted by",
        &["销号人", "验收人员"],
        false,
        ("已销号的必填", "Required for a closed one"),
    ),
];

pub fn danger_import_samples() -> Vec<Vec<&'static str>> {
    vec![
        vec![
            "91350100M000100Y43",
            "2026-015",
            "一般",
            "现场管理类",
            "执法检查",
            "二号仓库",
            "灭火器压力不足，未按期检查",
            "",
            "2026-03-01",
            "2026-03-15",
            "李仓管",
            "已销号",
            "2026-03-12",
            "王检查",
        ],
        vec![
            "91350100M000100Y43",
            "2026-016",
            "重大",
            "现场管理类",
            "执法检查",
            "液氯储罐区",
            "储罐区未设置泄漏检测报警装置",
            "危险化学品企业重大隐患判定标准",
            "2026-03-01",
            "2026-05-31",
            "张厂长",
            "整改中",
            "",
            "",
        ],
    ]
}

/// An import of hidden dangers by a regulator of `scope`.
pub struct DangerImport {
    actor: Actor,
    reach: Reach,
    now: DateTime<Utc>,
    import_id: String,
}

impl Store {
    pub fn danger_import(&self, scope: &Scope, actor: &Actor, import_id: &str) -> DangerImport {
        DangerImport {
            actor: actor.clone(),
            reach: Reach::Scope(scope.clone()),
            now: self.now(),
            import_id: import_id.to_owned(),
        }
    }
}

/// A row read: what it records and where the old ledger says it stands.
struct Read {
    enterprise: Reached,
    write: DangerWrite,
    status: DangerStatus,
    /// Closed: the day and the person who accepted it.
    closed: Option<(NaiveDate, String)>,
    source_number: String,
}

/// A word a cell must hold, read by `of`: `required` when empty, `unknown` when not one of them.
fn word<T>(
    row: &Row<'_>,
    key: &str,
    of: fn(&str) -> Option<T>,
    problems: &mut Vec<(String, String)>,
) -> Option<T> {
    let text = row.text(key);
    let found = of(&text);
    if found.is_none() {
        let code = if text.trim().is_empty() { "required" } else { "unknown" };
        problems.push((key.to_owned(), code.to_owned()));
    }
    found
}

impl DangerImport {
    /// Reads and checks a row; its problems when it cannot be imported.
    async fn read(
        &self,
        tx: &mut Tx,
        row: &Row<'_>,
    ) -> Result<Result<Read, Vec<(String, String)>>, StoreError> {
        let today = today(self.now);
        let mut problems = Vec::new();
        let enterprise = match crate::enterprise::enterprise_by_code(
            tx,
            &self.reach,
            &row.text("uscc"),
        )
        .await?
        {
            Ok(e) => Some(e),
            Err(problem) => {
                problems.push(problem);
                None
            }
        };
        let source_number = match plain_text(&row.text("source_number"), 64) {
            Ok(n) => Some(n),
            Err(code) => {
                problems.push(("source_number".to_owned(), code.to_owned()));
                None
            }
        };
        let level = word(row, "level", ledger_words::level, &mut problems);
        let category = word(row, "category", ledger_words::category, &mut problems);
        let origin = word(row, "origin", ledger_words::origin, &mut problems);
        let state = word(row, "state", ledger_words::state, &mut problems);
        let found_on = required_date(row, "found_on", &mut problems);
        let deadline = required_date(row, "deadline", &mut problems);
        let closed_on = date_in(row, "closed_on", &mut problems);
        let status = match (level, state) {
            (Some(level), Some(state)) => match imported_status(level, state) {
                Ok(status) => Some(status),
                Err(code) => {
                    problems.push(("state".to_owned(), code.to_owned()));
                    None
                }
            },
            _ => None,
        };
        let closed_by = row.text("closed_by");
        let closed = match state {
            Some(LedgerState::Closed) => {
                match closed_on {
                    None if !problems.iter().any(|(f, _)| f == "closed_on") => {
                        problems.push(("closed_on".to_owned(), "required".to_owned()));
                    }
                    Some(day) if day > today => {
                        problems.push(("closed_on".to_owned(), "in_future".to_owned()));
                    }
                    Some(day) if found_on.is_some_and(|found| day < found) => {
                        problems.push(("closed_on".to_owned(), "before_found".to_owned()));
                    }
                    _ => {}
                }
                match plain_text(&closed_by, 64) {
                    Ok(name) => closed_on.map(|day| (day, name)),
                    Err(code) => {
                        problems.push(("closed_by".to_owned(), code.to_owned()));
                        None
                    }
                }
            }
            // An open one with a closing day or an acceptor says two things at once.
            Some(_) => {
                if closed_on.is_some() {
                    problems.push(("closed_on".to_owned(), "not_closed".to_owned()));
                }
                if !closed_by.trim().is_empty() {
                    problems.push(("closed_by".to_owned(), "not_closed".to_owned()));
                }
                None
            }
            None => None,
        };
        let (Some(level), Some(category), Some(origin), Some(found_on), Some(deadline)) =
            (level, category, origin, found_on, deadline)
        else {
            return Ok(Err(problems));
        };
        let draft = DangerWrite {
            enterprise_id: enterprise.as_ref().map(|e| e.id.clone()).unwrap_or_default(),
            level,
            category,
            origin,
            place: row.text("place"),
            description: row.text("description"),
            criterion: row.text("criterion"),
            found_on,
            deadline,
            responsible_person: row.text("responsible_person"),
            fixed_on_spot: false,
        };
        let write = match draft.validate(today) {
            Ok(w) => Some(w),
            Err(errors) => {
                add_errors(&mut problems, &errors);
                None
            }
        };
        match (enterprise, write, status, source_number, problems.is_empty()) {
            (Some(enterprise), Some(write), Some(status), Some(source_number), true) => {
                Ok(Ok(Read { enterprise, write, status, closed, source_number }))
            }
            _ => Ok(Err(problems)),
        }
    }
}

/// The hidden danger an earlier import brought in under this enterprise and number, read as
/// the ledger reads one.
async fn held(
    tx: &mut Tx,
    now: DateTime<Utc>,
    enterprise_id: &str,
    source_number: &str,
) -> Result<Option<Danger>, StoreError> {
    let mut sql = Sql::new(SELECT);
    sql.push(" AND h.enterprise_id = ")
        .bind(enterprise_id.to_owned())
        .push(" AND h.source_number = ")
        .bind(source_number.to_owned());
    let row = sql.fetch_optional(&mut **tx).await?;
    row.map(|r| danger_of(&r, today(now))).transpose()
}

/// The day (Beijing time) a hidden danger was closed off the ledger.
fn closed_on(at: Option<DateTime<Utc>>) -> Option<NaiveDate> {
    at.map(|t| t.with_timezone(&china_offset()).date_naive())
}

impl ImportKind for DangerImport {
    fn columns(&self) -> &'static [Column] {
        &DANGER_IMPORT_COLUMNS
    }

    fn key(&self, row: &Row<'_>) -> Option<(&'static str, String)> {
        let code = row.text("uscc").trim().to_uppercase();
        let number = row.text("source_number");
        (!code.is_empty() && !number.is_empty())
            .then(|| ("source_number", format!("{code}\u{1}{number}")))
    }

    async fn apply(
        &mut self,
        tx: &mut Tx,
        row: &Row<'_>,
        write: bool,
    ) -> Result<RowOutcome, StoreError> {
        let read = match self.read(tx, row).await? {
            Ok(read) => read,
            Err(problems) => return Ok(RowOutcome::Refused(problems)),
        };
        let w = &read.write;
        let Some(before) = held(tx, self.now, &read.enterprise.id, &read.source_number).await?
        else {
            if write {
                self.insert(tx, &read).await?;
            }
            return Ok(RowOutcome::Created);
        };
        // What only its own steps change: the first that differs refuses the row.
        let fixed = [
            ("level", before.level != w.level),
            ("origin", before.origin != w.origin),
            ("found_on", before.found_on != w.found_on),
            ("deadline", before.deadline != w.deadline),
            ("state", before.status != read.status),
            ("closed_on", closed_on(before.closed_at) != read.closed.as_ref().map(|c| c.0)),
            ("closed_by", before.closed_by_name != read.closed.as_ref().map(|c| c.1.clone())),
        ];
        if let Some((field, _)) = fixed.iter().find(|(_, differs)| *differs) {
            return Ok(RowOutcome::refused(field, "danger_differs"));
        }
        let mut diff = Map::new();
        let mut note = |field: &str, was: &str, now: &str| {
            if was != now {
                diff.insert(field.to_owned(), json!({ "from": was, "to": now }));
            }
        };
        note("category", before.category.as_str(), w.category.as_str());
        note("place", &before.place, &w.place);
        note("description", &before.description, &w.description);
        note("criterion", &before.criterion, &w.criterion);
        note("responsible_person", &before.responsible_person, &w.responsible_person);
        if diff.is_empty() {
            return Ok(RowOutcome::Unchanged);
        }
        if before.status == DangerStatus::Closed {
            return Ok(RowOutcome::refused("description", "danger_closed"));
        }
        if write {
            let now = beacon_core::clock::to_millis(self.now);
            sqlx::query(
                "UPDATE hidden_dangers SET category = $1, place = $2, description = $3, \
                 criterion = $4, responsible_person = $5, version = version + 1, \
                 updated_at = $6 WHERE id = $7",
            )
            .bind(w.category.as_str())
            .bind(w.place.clone())
            .bind(w.description.clone())
            .bind(w.criterion.clone())
            .bind(w.responsible_person.clone())
            .bind(now)
            .bind(before.id.clone())
            .execute(&mut **tx)
            .await?;
            let mut data = Value::Object(diff);
            data["import_id"] = json!(self.import_id);
            let subject = ("hidden_danger", before.id.as_str());
            let unit = Some(read.enterprise.unit_id.as_str());
            timeline::append(tx, self.now, &self.actor, subject, unit, "updated", data).await?;
        }
        Ok(RowOutcome::Updated)
    }
}

impl DangerImport {
    /// Records a hidden danger read from the ledger, numbered by the year it was found, closed
    /// when the ledger closed it (on that day, by the person it names).
    async fn insert(&self, tx: &mut Tx, read: &Read) -> Result<(), StoreError> {
        let closed = read.closed.as_ref().map(|(day, by)| (start_of(*day), by.clone()));
        let w = &read.write;
        let (id, number) = insert_danger(
            tx,
            self.now,
            &self.actor,
            &read.enterprise,
            w,
            read.status,
            closed,
            w.found_on,
            &read.source_number,
        )
        .await?;
        let data = json!({
            "number": number, "level": w.level, "status": read.status,
            "source_number": read.source_number, "import_id": self.import_id,
        });
        let unit = Some(read.enterprise.unit_id.as_str());
        timeline::append(tx, self.now, &self.actor, ("hidden_danger", &id), unit, "imported", data)
            .await?;
        if read.status.is_open() {
            deadline::schedule(tx, self.now, &id, &read.enterprise.unit_id, w.deadline).await?;
        }
        Ok(())
    }
}
