//! Importing the register from an office's workbook (docs/imports.md): one row per enterprise,
//! known by its credit code. A code the register does not hold is registered; one the caller
//! reaches is updated where the row differs and left alone where it does not, so importing the
//! same file twice changes nothing; one held outside the caller's reach is refused.

use std::collections::HashMap;

use beacon_core::audit::Actor;
use beacon_core::enterprise::{LICENCE_KINDS, reference};
use beacon_core::id::new_id;
use beacon_core::scope::Scope;
use beacon_export::sheet::{Column, Row};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::Row as _;

use super::licence::{add_licence, change_licence, licence_of};
use super::risk::{add_risk_point, change_risk_point, point_of};
use super::{
    Enterprise, EnterpriseRow, EnterpriseWrite, LicenceWrite, Only, Reach, RiskPointWrite,
    insert_enterprises, register_diff, select_after, today, update_row,
};
use crate::imports::{ImportKind, RowOutcome, add_errors, column, date_in, required_date};
use crate::sql::Sql;
use crate::timeline::NewEntry;
use crate::{Store, StoreError, Tx, scope, timeline};

/// The register's columns, in the template's order.
pub static ENTERPRISE_IMPORT_COLUMNS: [Column; 20] = [
    column(
        "uscc",
        "统一社会信用代码",
        "Unified social credit code",
        &["信用代码", "社会信用代码", "统一代码", "USCC"],
        true,
        (
            "18 位，按 GB 32100 校验；同一文件中不得重复",
            "18 characters, checked by GB 32100; once per file",
        ),
    ),
    column(
        "name",
        "企业名称",
        "Enterprise name",
        &["单位名称", "企业全称", "名称"],
        true,
        ("营业执照上的全称", "The full name on the business licence"),
    ),
    column(
        "former_names",
        "曾用名",
        "Former names",
        &[],
        false,
        ("多个用“；”或“、”分隔", "Separate several with ; or 、"),
    ),
    column(
        "legal_representative",
        "法定代表人",
        "Legal representative",
        &["法人代表", "法人"],
        false,
        ("", ""),
    ),
    column(
        "safety_principal",
        "安全负责人",
        "Safety principal",
        &["安全生产负责人", "主要负责人"],
        false,
        ("", ""),
    ),
    column(
        "safety_phone",
        "安全负责人电话",
        "Safety principal's phone",
        &["联系电话", "电话", "手机"],
        false,
        ("手机或座机", "Mobile or landline"),
    ),
    column(
        "address",
        "地址",
        "Address",
        &["企业地址", "注册地址", "经营地址", "生产经营地址"],
        false,
        ("", ""),
    ),
    column(
        "lon",
        "经度",
        "Longitude",
        &[],
        false,
        ("十进制度，如 119.30，与纬度同填", "Decimal degrees such as 119.30, with the latitude"),
    ),
    column(
        "lat",
        "纬度",
        "Latitude",
        &[],
        false,
        ("十进制度，如 26.08", "Decimal degrees such as 26.08"),
    ),
    column(
        "unit_id",
        "属地单位",
        "Territorial unit",
        &["属地", "所属乡镇（街道）", "乡镇街道", "所属街道", "所属乡镇"],
        true,
        (
            "乡镇（街道）或区县的名称或代码，须在本单位辖区内",
            "Name or code of a township or district within your scope",
        ),
    ),
    column(
        "department_id",
        "行业监管部门",
        "Supervising department",
        &["监管部门", "行业主管部门"],
        false,
        ("部门名称或代码", "Department name or code"),
    ),
    column(
        "section",
        "国民经济行业门类",
        "GB/T 4754 section",
        &["行业门类", "门类"],
        true,
        ("门类字母（C）或名称（制造业）", "Section letter (C) or its Chinese name"),
    ),
    column(
        "sector",
        "监管行业",
        "Supervised sector",
        &["行业类别", "监管类别", "行业"],
        true,
        ("如 危险化学品、冶金、工贸其他", "e.g. 危险化学品, 冶金, other"),
    ),
    column(
        "employees",
        "从业人员数",
        "Employees",
        &["从业人数", "职工人数", "员工人数"],
        false,
        ("整数", "A whole number"),
    ),
    column(
        "designated_size",
        "规模以上",
        "Above designated size",
        &["是否规上", "规上企业"],
        false,
        ("是 / 否", "yes / no"),
    ),
    column(
        "status",
        "经营状态",
        "Status",
        &["状态", "生产状态"],
        false,
        ("在营 / 停产；空为在营", "operating / suspended; blank is operating"),
    ),
    column(
        "standard_grade",
        "安全生产标准化等级",
        "Standardisation grade",
        &["标准化等级"],
        false,
        ("一级 / 二级 / 三级", "一级 / 二级 / 三级"),
    ),
    column(
        "standard_expires",
        "标准化有效期至",
        "Standardisation expires",
        &["标准化有效期", "标准化到期日"],
        false,
        ("日期，如 2027-06-30", "A date such as 2027-06-30"),
    ),
    column(
        "marks",
        "重点标记",
        "Key marks",
        &["重点企业标记", "标记"],
        false,
        ("多个用“；”分隔", "Separate several with ;"),
    ),
    column("tags", "标签", "Tags", &[], false, ("多个用“；”分隔", "Separate several with ;")),
];

/// Two sample rows for the template.
pub fn enterprise_import_samples() -> Vec<Vec<&'static str>> {
    vec![vec![
        "91350100M000100Y43",
        "示例化工有限公司",
        "",
        "张三",
        "李四",
        "13800000000",
        "某路 1 号",
        "119.30",
        "26.08",
        "某某街道",
        "",
        "C",
        "危险化学品",
        "120",
        "是",
        "在营",
        "三级",
        "2027-06-30",
        "",
        "",
    ]]
}

/// Units a row may name, by their code or their name without spaces.
#[derive(Default)]
struct UnitNames(HashMap<String, Vec<String>>);

impl UnitNames {
    fn add(&mut self, id: &str, code: &str, name: &str) {
        for key in [code, name] {
            let key: String = key.chars().filter(|c| !c.is_whitespace()).collect();
            if !key.is_empty() {
                let ids = self.0.entry(key).or_default();
                if !ids.iter().any(|i| i == id) {
                    ids.push(id.to_owned());
                }
            }
        }
    }

    fn find(&self, text: &str) -> Result<String, &'static str> {
        let key: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        match self.0.get(&key).map(Vec::as_slice) {
            Some([one]) => Ok(one.clone()),
            Some([_, _, ..]) => Err("ambiguous"),
            _ => Err("not_found"),
        }
    }
}

/// An import of the register by a regulator of `scope`.
pub struct EnterpriseImport {
    import_id: String,
    actor: Actor,
    scope: Scope,
    now: DateTime<Utc>,
    units: UnitNames,
    departments: UnitNames,
    /// Whether the scope reaches a unit, by unit id, as the rows' enterprises ask.
    reached_units: HashMap<String, bool>,
}

impl Store {
    /// Prepares an import of enterprises into `scope`: the units a row may name.
    pub async fn enterprise_import(
        &self,
        scope: &Scope,
        actor: &Actor,
        import_id: &str,
    ) -> Result<EnterpriseImport, StoreError> {
        let mut sql = Sql::new(
            "SELECT u.id, u.code, u.name, u.level FROM units u WHERE u.level <> 'department'",
        );
        scope::filter(&mut sql, scope, "u.id");
        let mut units = UnitNames::default();
        for r in sql.fetch_all(self.reader()).await? {
            units.add(
                &r.try_get::<String, _>("id")?,
                &r.try_get::<String, _>("code")?,
                &r.try_get::<String, _>("name")?,
            );
        }
        let mut departments = UnitNames::default();
        let mut sql = Sql::new("SELECT u.id, u.code, u.name FROM units u WHERE 1 = 1");
        super::nameable_departments(&mut sql, scope);
        for r in sql.fetch_all(self.reader()).await? {
            departments.add(
                &r.try_get::<String, _>("id")?,
                &r.try_get::<String, _>("code")?,
                &r.try_get::<String, _>("name")?,
            );
        }
        Ok(EnterpriseImport {
            import_id: import_id.to_owned(),
            actor: actor.clone(),
            scope: scope.clone(),
            now: self.now(),
            units,
            departments,
            reached_units: HashMap::new(),
        })
    }
}

impl EnterpriseImport {
    /// The row as the register's write, or its problems.
    fn write_of(&self, row: &Row<'_>) -> Result<EnterpriseWrite, Vec<(String, String)>> {
        let mut problems: Vec<(String, String)> = Vec::new();
        let mut problem =
            |field: &str, code: &str| problems.push((field.to_owned(), code.to_owned()));
        let text = |key: &str| row.text(key);
        let number = |key: &str, problem: &mut dyn FnMut(&str, &str)| match row.number(key) {
            Ok(v) => v,
            Err(code) => {
                problem(key, code);
                None
            }
        };
        let lon = number("lon", &mut problem);
        let lat = number("lat", &mut problem);
        let employees = match number("employees", &mut problem) {
            Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX) => n as u32,
            Some(_) => {
                problem("employees", "out_of_range");
                0
            }
            None => 0,
        };
        let unit = text("unit_id");
        let unit_id = if unit.is_empty() {
            problem("unit_id", "required");
            String::new()
        } else {
            self.units.find(&unit).unwrap_or_else(|code| {
                problem("unit_id", code);
                String::new()
            })
        };
        let department = text("department_id");
        let department_id = if department.is_empty() {
            None
        } else {
            match self.departments.find(&department) {
                Ok(id) => Some(id),
                Err(code) => {
                    problem("department_id", code);
                    None
                }
            }
        };
        let designated_size = match row.yes_no("designated_size") {
            Ok(v) => v.unwrap_or(false),
            Err(code) => {
                problem("designated_size", code);
                false
            }
        };
        let status = match text("status").as_str() {
            "" | "在营" | "营业" | "正常" | "生产" | "正常生产" | "operating" => {
                "operating".to_owned()
            }
            "停产" | "停业" | "停产停业" | "suspended" => "suspended".to_owned(),
            "关闭" | "注销" | "closed" => "closed".to_owned(),
            other => other.to_owned(),
        };
        let standard_expires = match row.date("standard_expires") {
            Ok(d) => d,
            Err(code) => {
                problem("standard_expires", code);
                None
            }
        };
        let grade = text("standard_grade");
        let write = EnterpriseWrite {
            uscc: text("uscc"),
            name: text("name"),
            former_names: row.list("former_names"),
            legal_representative: text("legal_representative"),
            safety_principal: text("safety_principal"),
            safety_phone: text("safety_phone"),
            address: text("address"),
            lon,
            lat,
            unit_id,
            department_id,
            section: text("section"),
            sector: text("sector"),
            employees,
            designated_size,
            status,
            standard_grade: (!grade.is_empty()).then_some(grade),
            standard_expires,
            marks: row.list("marks"),
            tags: row.list("tags"),
            version: None,
        };
        match write.validate() {
            Ok((_, write)) if problems.is_empty() => Ok(write),
            Ok(_) => Err(problems),
            Err(errors) => {
                add_errors(&mut problems, &errors);
                Err(problems)
            }
        }
    }
}

/// The enterprises of `ids` as the register shows them, read in `tx` with one statement (an
/// import's chunk: up to [`crate::imports::CHUNK`] ids). Which of them the caller reaches is
/// [`EnterpriseImport::reaches`], a lookup per unit rather than the scope's subqueries on
/// every chunk.
async fn enterprises_in(
    tx: &mut Tx,
    now: DateTime<Utc>,
    ids: &[String],
) -> Result<HashMap<String, Enterprise>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let backend = crate::db::backend_of(tx);
    let sql = select_after(Sql::batch("", backend), Only::Ids(ids));
    let rows: Vec<EnterpriseRow> = sql.fetch_rows(backend, "t.id", &mut **tx).await?;
    let today = today(now);
    rows.into_iter().map(|row| row.into_enterprise(today).map(|e| (e.id.clone(), e))).collect()
}

impl ImportKind for EnterpriseImport {
    fn columns(&self) -> &'static [Column] {
        &ENTERPRISE_IMPORT_COLUMNS
    }

    /// Thousands of new names may make trigrams common: those to index are added now rather
    /// than by the first search after the import.
    async fn committed(&self, store: &Store) -> Result<(), StoreError> {
        store.index_register_text().await.map(|_| ())
    }

    fn key(&self, row: &Row<'_>) -> Option<(&'static str, String)> {
        let code = row.text("uscc").trim().to_uppercase();
        (!code.is_empty()).then_some(("uscc", code))
    }

    async fn apply(
        &mut self,
        tx: &mut Tx,
        row: &Row<'_>,
        write: bool,
    ) -> Result<RowOutcome, StoreError> {
        let mut outcomes = self.apply_chunk(tx, std::slice::from_ref(row), write).await?;
        outcomes.pop().ok_or_else(|| StoreError::corrupt("an import row without an outcome"))
    }

    /// One lookup of the chunk's codes; the new enterprises and their timeline entries in a few
    /// multi-row inserts; a code already registered is compared and updated row by row.
    async fn apply_chunk(
        &mut self,
        tx: &mut Tx,
        rows: &[Row<'_>],
        write: bool,
    ) -> Result<Vec<RowOutcome>, StoreError> {
        let mut outcomes = Vec::with_capacity(rows.len());
        let mut writes = Vec::with_capacity(rows.len());
        for (index, row) in rows.iter().enumerate() {
            match self.write_of(row) {
                Ok(w) => {
                    outcomes.push(RowOutcome::Created);
                    writes.push((index, w));
                }
                Err(problems) => outcomes.push(RowOutcome::Refused(problems)),
            }
        }
        let mut registered: HashMap<String, String> = HashMap::new();
        if !writes.is_empty() {
            let backend = crate::db::backend_of(tx);
            let mut sql = Sql::batch("SELECT id, uscc FROM enterprises WHERE uscc IN (", backend);
            for (i, (_, w)) in writes.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind(w.uscc.clone());
            }
            sql.push(")");
            for row in sql.fetch_all(&mut **tx).await? {
                registered.insert(row.try_get("uscc")?, row.try_get("id")?);
            }
        }
        let ids: Vec<String> = registered.values().cloned().collect();
        let mut reached = enterprises_in(tx, self.now, &ids).await?;
        let mut outside = Vec::new();
        for (id, e) in &reached {
            if !self.reaches(tx, &e.unit.id, e.department.as_ref().map(|d| d.id.as_str())).await? {
                outside.push(id.clone());
            }
        }
        for id in outside {
            reached.remove(&id);
        }
        let mut new = Vec::new();
        for (index, w) in writes {
            match registered.get(&w.uscc) {
                Some(id) => {
                    outcomes[index] =
                        self.update_existing(tx, id, reached.get(id), &w, write).await?;
                }
                None if write => new.push((new_id(), w)),
                None => {}
            }
        }
        if !new.is_empty() {
            insert_enterprises(tx, self.now, &new).await?;
            let entries = new
                .iter()
                .map(|(id, w)| NewEntry {
                    subject: ("enterprise", id),
                    unit_id: Some(&w.unit_id),
                    kind: "imported",
                    data: json!({ "import_id": self.import_id, "uscc": w.uscc, "name": w.name }),
                })
                .collect();
            timeline::append_all(tx, self.now, &self.actor, entries).await?;
        }
        Ok(outcomes)
    }
}

impl EnterpriseImport {
    /// Whether the caller's scope reaches an enterprise of this territory and department: the
    /// rule of [`Reach::Scope`], a unit looked up once per import.
    async fn reaches(
        &mut self,
        tx: &mut Tx,
        unit_id: &str,
        department_id: Option<&str>,
    ) -> Result<bool, StoreError> {
        for unit in std::iter::once(unit_id).chain(department_id) {
            let reached = match self.reached_units.get(unit) {
                Some(reached) => *reached,
                None => {
                    let reached = scope::contains(&mut **tx, &self.scope, unit).await?;
                    self.reached_units.insert(unit.to_owned(), reached);
                    reached
                }
            };
            if reached {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// A row whose code is registered as `id` (`before`, when the caller reaches it): refused
    /// when another district holds it or it is closed, unchanged when it says what the register
    /// says, updated otherwise.
    async fn update_existing(
        &self,
        tx: &mut Tx,
        id: &str,
        before: Option<&Enterprise>,
        w: &EnterpriseWrite,
        write: bool,
    ) -> Result<RowOutcome, StoreError> {
        // Held by another district: the same answer a registration gets.
        let Some(before) = before else {
            return Ok(RowOutcome::refused("uscc", "already_exists"));
        };
        if before.status == "closed" {
            return Ok(RowOutcome::refused("uscc", "enterprise_closed"));
        }
        let diff = register_diff(before, w);
        if diff.is_empty() {
            return Ok(RowOutcome::Unchanged);
        }
        if write {
            update_row(tx, self.now, id, w).await?;
            let mut data = Value::Object(diff);
            data["import_id"] = json!(self.import_id);
            timeline::append(
                tx,
                self.now,
                &self.actor,
                ("enterprise", id),
                Some(&w.unit_id),
                "updated",
                data,
            )
            .await?;
        }
        Ok(RowOutcome::Updated)
    }
}

/// The licence columns, in the template's order.
pub static LICENCE_IMPORT_COLUMNS: [Column; 8] = [
    column(
        "uscc",
        "统一社会信用代码",
        "Unified social credit code",
        &["信用代码", "社会信用代码", "企业信用代码"],
        true,
        (
            "持证企业的代码；企业须已在档案中且在本单位辖区内",
            "The holder's code; the enterprise must be registered in your scope",
        ),
    ),
    column(
        "kind",
        "证照类型",
        "Licence kind",
        &["证书类型", "许可证类型", "类型"],
        true,
        (
            "如 安全生产许可证、危险化学品经营许可证、特种作业操作证",
            "e.g. 安全生产许可证, 危险化学品经营许可证, 特种作业操作证",
        ),
    ),
    column(
        "number",
        "证书编号",
        "Number",
        &["编号", "许可证编号", "证号"],
        true,
        ("同一企业同一类型内唯一", "Unique per enterprise and kind"),
    ),
    column("issuer", "发证机关", "Issuer", &["发证单位"], false, ("", "")),
    column(
        "issued_on",
        "发证日期",
        "Issued",
        &["发证时间", "颁发日期"],
        true,
        ("日期，如 2024-03-01", "A date such as 2024-03-01"),
    ),
    column(
        "expires_on",
        "有效期至",
        "Expires",
        &["有效期", "到期日期", "截止日期"],
        true,
        ("日期，须晚于发证日期", "A date after the issue date"),
    ),
    column("scope_text", "许可范围", "Scope", &["经营范围", "许可内容"], false, ("", "")),
    column(
        "holder_name",
        "持证人",
        "Holder",
        &["姓名", "持证人姓名"],
        false,
        ("特种作业、特种设备作业人员证必填", "Required for personal certificates"),
    ),
];

pub fn licence_import_samples() -> Vec<Vec<&'static str>> {
    vec![vec![
        "91350100M000100Y43",
        "安全生产许可证",
        "（闽）WH安许证字〔2024〕001号",
        "某市应急管理局",
        "2024-03-01",
        "2027-02-28",
        "危险化学品生产",
        "",
    ]]
}

/// An import of licences by a regulator of `scope`: one row per licence, known by its
/// enterprise, kind and number.
pub struct LicenceImport {
    actor: Actor,
    reach: Reach,
    now: DateTime<Utc>,
}

impl Store {
    pub fn licence_import(&self, scope: &Scope, actor: &Actor) -> LicenceImport {
        LicenceImport { actor: actor.clone(), reach: Reach::Scope(scope.clone()), now: self.now() }
    }
}

impl ImportKind for LicenceImport {
    fn columns(&self) -> &'static [Column] {
        &LICENCE_IMPORT_COLUMNS
    }

    fn key(&self, row: &Row<'_>) -> Option<(&'static str, String)> {
        let code = row.text("uscc").trim().to_uppercase();
        let kind = row.text("kind");
        let kind = reference(&LICENCE_KINDS, &kind).map_or(kind, str::to_owned);
        let number = row.text("number");
        (!code.is_empty() && !number.is_empty())
            .then(|| ("number", format!("{code}\u{1}{kind}\u{1}{number}")))
    }

    async fn apply(
        &mut self,
        tx: &mut Tx,
        row: &Row<'_>,
        write: bool,
    ) -> Result<RowOutcome, StoreError> {
        let mut problems = Vec::new();
        let issued = required_date(row, "issued_on", &mut problems);
        let expires = required_date(row, "expires_on", &mut problems);
        let e = match super::enterprise_by_code(tx, &self.reach, &row.text("uscc")).await? {
            Ok(e) => Some(e),
            Err(p) => {
                problems.push(p);
                None
            }
        };
        let draft = LicenceWrite {
            kind: row.text("kind"),
            number: row.text("number"),
            issuer: row.text("issuer"),
            issued_on: issued.unwrap_or_default(),
            expires_on: expires.unwrap_or_default(),
            scope_text: row.text("scope_text"),
            holder_name: row.text("holder_name"),
            version: None,
        };
        let w = match draft.validate() {
            Ok(w) => Some(w),
            Err(errors) => {
                add_errors(&mut problems, &errors);
                None
            }
        };
        let (Some(e), Some(w), true) = (e, w, problems.is_empty()) else {
            return Ok(RowOutcome::Refused(problems));
        };
        let existing = sqlx::query("SELECT * FROM enterprise_licences WHERE enterprise_id = $1 AND kind = $2 AND number = $3")
            .bind(e.id.clone())
            .bind(w.kind.clone())
            .bind(w.number.clone())
            .fetch_optional(&mut **tx)
            .await?;
        let Some(existing) = existing else {
            if write {
                add_licence(tx, self.now, &self.actor, &e, &w).await?;
            }
            return Ok(RowOutcome::Created);
        };
        let before = licence_of(&existing, today(self.now))?;
        if before.withdrawn {
            return Ok(RowOutcome::refused("number", "licence_withdrawn"));
        }
        let same = before.issuer == w.issuer
            && before.issued_on == w.issued_on
            && before.expires_on == w.expires_on
            && before.scope_text == w.scope_text
            && before.holder_name == w.holder_name;
        if same {
            return Ok(RowOutcome::Unchanged);
        }
        if write {
            change_licence(tx, self.now, &self.actor, &e, &before.id, &before, &w).await?;
        }
        Ok(RowOutcome::Updated)
    }
}

/// The risk-point columns, in the template's order.
pub static RISK_POINT_IMPORT_COLUMNS: [Column; 11] = [
    column(
        "uscc",
        "统一社会信用代码",
        "Unified social credit code",
        &["信用代码", "社会信用代码", "企业信用代码"],
        true,
        (
            "所属企业的代码；企业须已在档案中且在本单位辖区内",
            "The enterprise's code; it must be registered in your scope",
        ),
    ),
    column(
        "name",
        "风险点名称",
        "Risk point",
        &["风险点", "名称", "场所/设施"],
        true,
        ("同一企业内唯一，如 液氯储罐区", "Unique within the enterprise, e.g. 液氯储罐区"),
    ),
    column("place", "位置", "Place", &["所在位置", "区域"], false, ("", "")),
    column(
        "accident_types",
        "可能导致的事故类型",
        "Accident types",
        &["事故类型", "事故类别"],
        true,
        (
            "GB 6441 类别名称，多个用“；”分隔，如 中毒和窒息；火灾",
            "GB 6441 names separated by ;, e.g. 中毒和窒息；火灾",
        ),
    ),
    column(
        "l",
        "L（可能性）",
        "L (likelihood)",
        &["L", "L值", "可能性"],
        true,
        ("0.1、0.2、0.5、1、3、6、10 之一", "One of 0.1, 0.2, 0.5, 1, 3, 6, 10"),
    ),
    column(
        "e",
        "E（暴露频繁程度）",
        "E (exposure)",
        &["E", "E值", "暴露频繁程度"],
        true,
        ("0.5、1、2、3、6、10 之一", "One of 0.5, 1, 2, 3, 6, 10"),
    ),
    column(
        "c",
        "C（后果）",
        "C (consequence)",
        &["C", "C值", "后果严重程度"],
        true,
        ("1、3、7、15、40、100 之一", "One of 1, 3, 7, 15, 40, 100"),
    ),
    column("measures", "管控措施", "Control measures", &["主要管控措施"], false, ("", "")),
    column(
        "control_level",
        "管控层级",
        "Control level",
        &["管控级别"],
        true,
        ("公司级、车间级、班组级、岗位级", "公司级, 车间级, 班组级 or 岗位级"),
    ),
    column("responsible_person", "责任人", "Responsible person", &["管控责任人"], false, ("", "")),
    column(
        "next_review",
        "下次评估日期",
        "Next review",
        &["复评日期", "下次评审日期"],
        false,
        ("日期，如 2027-01-31", "A date such as 2027-01-31"),
    ),
];

pub fn risk_point_import_samples() -> Vec<Vec<&'static str>> {
    vec![vec![
        "91350100M000100Y43",
        "液氯储罐区",
        "厂区东侧",
        "中毒和窒息；火灾",
        "3",
        "6",
        "15",
        "设置泄漏报警和紧急切断",
        "公司级",
        "张三",
        "2027-01-31",
    ]]
}

/// An import of risk points by a regulator of `scope`: one row per risk point, known by its
/// enterprise and name; new L, E or C values are a re-evaluation, kept like one typed in.
pub struct RiskPointImport {
    actor: Actor,
    reach: Reach,
    now: DateTime<Utc>,
}

impl Store {
    pub fn risk_point_import(&self, scope: &Scope, actor: &Actor) -> RiskPointImport {
        RiskPointImport {
            actor: actor.clone(),
            reach: Reach::Scope(scope.clone()),
            now: self.now(),
        }
    }
}

impl ImportKind for RiskPointImport {
    fn columns(&self) -> &'static [Column] {
        &RISK_POINT_IMPORT_COLUMNS
    }

    fn key(&self, row: &Row<'_>) -> Option<(&'static str, String)> {
        let code = row.text("uscc").trim().to_uppercase();
        let name = row.text("name");
        (!code.is_empty() && !name.is_empty()).then(|| ("name", format!("{code}\u{1}{name}")))
    }

    async fn apply(
        &mut self,
        tx: &mut Tx,
        row: &Row<'_>,
        write: bool,
    ) -> Result<RowOutcome, StoreError> {
        let mut problems = Vec::new();
        let mut value = |key: &str| match row.number(key) {
            Ok(Some(v)) => v,
            Ok(None) => {
                problems.push((key.to_owned(), "required".to_owned()));
                0.0
            }
            Err(code) => {
                problems.push((key.to_owned(), code.to_owned()));
                0.0
            }
        };
        let (l, e_value, c) = (value("l"), value("e"), value("c"));
        let next_review = date_in(row, "next_review", &mut problems);
        let enterprise = match super::enterprise_by_code(tx, &self.reach, &row.text("uscc")).await?
        {
            Ok(e) => Some(e),
            Err(p) => {
                problems.push(p);
                None
            }
        };
        let draft = RiskPointWrite {
            name: row.text("name"),
            place: row.text("place"),
            accident_types: row.list("accident_types"),
            method: "lec".to_owned(),
            l,
            e: e_value,
            c,
            measures: row.text("measures"),
            control_level: row.text("control_level"),
            responsible_person: row.text("responsible_person"),
            next_review,
            version: None,
        };
        let checked = match draft.validate() {
            Ok(v) => Some(v),
            Err(errors) => {
                add_errors(&mut problems, &errors);
                None
            }
        };
        let (Some(e), Some((lec, w)), true) = (enterprise, checked, problems.is_empty()) else {
            return Ok(RowOutcome::Refused(problems));
        };
        let existing = sqlx::query(
            "SELECT * FROM risk_points WHERE enterprise_id = $1 AND name = $2 AND retired = $3",
        )
        .bind(e.id.clone())
        .bind(w.name.clone())
        .bind(false)
        .fetch_optional(&mut **tx)
        .await?;
        let Some(existing) = existing else {
            if write {
                add_risk_point(tx, self.now, &self.actor, &e, &lec, &w).await?;
            }
            return Ok(RowOutcome::Created);
        };
        let before = point_of(&existing, today(self.now))?;
        let same = before.place == w.place
            && before.accident_types == w.accident_types
            && (before.l, before.e, before.c) == (lec.l, lec.e, lec.c)
            && before.measures == w.measures
            && before.control_level == w.control_level
            && before.responsible_person == w.responsible_person
            && before.next_review == w.next_review;
        if same {
            return Ok(RowOutcome::Unchanged);
        }
        if write {
            change_risk_point(tx, self.now, &self.actor, &e, &before.id, &before, &lec, &w).await?;
        }
        Ok(RowOutcome::Updated)
    }
}
