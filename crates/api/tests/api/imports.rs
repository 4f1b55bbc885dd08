//! Excel imports over HTTP: the dry run names every problem by row, column and code and writes
//! nothing; the commit writes the valid rows; a second import of the same file changes nothing;
//! the history and the annotated workbook stay in scope.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use beacon_core::org::Role;
use beacon_export::{Cell, Ledger, ledger_xlsx};
use beacon_store::backend_tests;
use chrono::Duration;
use serde_json::{Value, json};

use crate::{Response, Session, TestApp};

/// A register workbook as offices keep it: a title row above the headers, the columns in their
/// own order and spacing, and the rows.
fn workbook(rows: &[[&str; 6]]) -> Vec<u8> {
    let headers =
        ["企业 名称", "*统一社会信用代码", "属地", "行业门类", "监管行业", "标准化有效期至"];
    let rows =
        rows.iter().map(|r| r.iter().map(|c| Cell::Text((*c).to_owned())).collect()).collect();
    let headers: Vec<&str> = headers.to_vec();
    ledger_xlsx(&Ledger {
        sheet: "企业", title: "江南区企业台账", headers: &headers, rows
    })
    .unwrap()
}

/// Any sheet: a title row, the headers, the rows.
fn sheet(headers: &[&str], rows: &[Vec<&str>]) -> Vec<u8> {
    let rows =
        rows.iter().map(|r| r.iter().map(|c| Cell::Text((*c).to_owned())).collect()).collect();
    ledger_xlsx(&Ledger { sheet: "s", title: "台账", headers, rows }).unwrap()
}

async fn upload(t: &TestApp, session: &Session, bytes: Vec<u8>) -> Response {
    upload_kind(t, session, "enterprises", bytes).await
}

async fn upload_kind(t: &TestApp, session: &Session, kind: &str, bytes: Vec<u8>) -> Response {
    let request =
        Request::post(format!("/api/v1/imports?kind={kind}&name=%E5%8F%B0%E8%B4%A6.xlsx"))
            .header(header::COOKIE, &session.cookie)
            .header(
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
            .body(Body::from(bytes))
            .unwrap();
    t.send(request).await
}

/// Waits for the background run to finish and returns the import.
async fn settled(t: &TestApp, session: &Session, id: &str) -> Value {
    for _ in 0..500 {
        let import = t.get(session, &format!("/api/v1/imports/{id}")).await.json();
        if !matches!(import["status"].as_str(), Some("checking" | "committing")) {
            return import;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("import {id} did not finish");
}

fn problem<'a>(import: &'a Value, row: u64, field: &str) -> &'a Value {
    import["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["row"] == row && p["field"] == field)
        .unwrap_or_else(|| panic!("no problem at row {row} {field}: {import}"))
}

backend_tests! {
    async fn a_register_is_checked_then_committed_once(t: TestApp) {
        let inspector = t.signed_in("east.inspector", &t.tree.east, &[Role::Inspector]).await;
        let west = t.signed_in("west.inspector", &t.tree.west, &[Role::Inspector]).await;
        let viewer = t.signed_in("east.viewer", &t.tree.east, &[Role::Viewer]).await;
        let admin = t.signed_in("east.admin", &t.tree.east, &[Role::SystemAdmin]).await;
        // Another district already holds one of the codes.
        t.post(&west, "/api/v1/enterprises", json!({
            "uscc": "91440300708461136T", "name": "江北丙厂", "unit_id": t.tree.west,
            "section": "C", "sector": "machinery",
        })).await.expect(StatusCode::CREATED);

        let file = workbook(&[
            ["临江甲化工", "91350100M000100Y43", "滨江街道", "C", "危险化学品", ""],
            ["乙公司", "91350100M000100Y44", "滨江街道", "C", "危险化学品", ""],
            ["甲化工重复", "91350100m000100y43", "滨江街道", "C", "危险化学品", ""],
            ["丁公司", "91110000802100433B", "西湖街道", "C", "冶金", "明年"],
            ["丙厂", "91440300708461136T", "990102", "C", "机械", ""],
        ]);
        let made = upload(&t, &inspector, file.clone()).await;
        made.expect(StatusCode::ACCEPTED);
        let id = made.json()["id"].as_str().unwrap().to_owned();
        let checked = settled(&t, &inspector, &id).await;
        assert_eq!(checked["status"], "checked", "{checked}");
        assert_eq!(checked["rows_total"], 5);
        assert_eq!(checked["rows_created"], 1);
        assert_eq!(checked["rows_refused"], 4);
        assert_eq!(checked["created_by"], "east.inspector");
        // Row 1 is the title, row 2 the headers: data starts at row 3. The code is column B.
        let bad = problem(&checked, 4, "uscc");
        assert_eq!(bad["code"], "check_character");
        assert_eq!(bad["cell"], "B");
        assert_eq!(bad["column"], "*统一社会信用代码");
        assert_eq!(problem(&checked, 5, "uscc")["code"], "duplicate_in_file");
        assert_eq!(problem(&checked, 6, "unit_id")["code"], "not_found");
        assert_eq!(problem(&checked, 6, "standard_expires")["code"], "date_unreadable");
        assert_eq!(problem(&checked, 7, "uscc")["code"], "already_exists");
        // A dry run writes nothing.
        assert_eq!(t.get(&inspector, "/api/v1/enterprises").await.json()["total"], 0);

        // The annotated workbook keeps the rows and says what became of each.
        let result = t.get(&inspector, &format!("/api/v1/imports/{id}/result.xlsx")).await;
        result.expect(StatusCode::OK);
        let text = crate::enterprise::workbook_text(&result.bytes);
        for expected in ["江南区企业台账", "预检结果", "将新增", "拒绝", "日期无法识别", "文件中重复出现"] {
            assert!(text.contains(expected), "{expected} in {text}");
        }

        // Scope first, then the role; the administrators do not import.
        t.get(&west, &format!("/api/v1/imports/{id}")).await.expect(StatusCode::NOT_FOUND);
        t.post(&west, &format!("/api/v1/imports/{id}/commit"), json!({})).await.expect(StatusCode::NOT_FOUND);
        assert_eq!(t.get(&west, "/api/v1/imports").await.json()["total"], 0);
        t.get(&viewer, &format!("/api/v1/imports/{id}")).await.expect(StatusCode::FORBIDDEN);
        upload(&t, &admin, file.clone()).await.expect(StatusCode::FORBIDDEN);

        t.post(&inspector, &format!("/api/v1/imports/{id}/commit"), json!({})).await.expect(StatusCode::ACCEPTED);
        let committed = settled(&t, &inspector, &id).await;
        assert_eq!(committed["status"], "committed", "{committed}");
        assert_eq!(committed["rows_created"], 1);
        assert_eq!(committed["committed_by"], "east.inspector");
        let list = t.get(&inspector, "/api/v1/enterprises").await.json();
        assert_eq!(list["total"], 1);
        assert_eq!(list["items"][0]["name"], "临江甲化工");
        let enterprise = list["items"][0]["id"].as_str().unwrap().to_owned();
        let history = t.get(&inspector, &format!("/api/v1/enterprises/{enterprise}/history")).await.json();
        assert!(history.to_string().contains("imported"), "{history}");
        assert_eq!(t.audit_actions("import.committed").await.len(), 1);
        // A commit runs once.
        t.post(&inspector, &format!("/api/v1/imports/{id}/commit"), json!({})).await.expect(StatusCode::CONFLICT);

        // The same file again changes nothing, and there is nothing to commit.
        let again = upload(&t, &inspector, file).await.json();
        let again_id = again["id"].as_str().unwrap().to_owned();
        let again = settled(&t, &inspector, &again_id).await;
        assert_eq!(again["rows_created"], 0);
        assert_eq!(again["rows_unchanged"], 1);
        let nothing = t.post(&inspector, &format!("/api/v1/imports/{again_id}/commit"), json!({})).await;
        nothing.expect(StatusCode::CONFLICT);
        assert_eq!(nothing.code(), "import_nothing_to_write");

        // A changed row updates the enterprise it names.
        let changed = workbook(&[["临江甲化工", "91350100M000100Y43", "滨江街道", "C", "冶金", ""]]);
        let changed_id = upload(&t, &inspector, changed).await.json()["id"].as_str().unwrap().to_owned();
        assert_eq!(settled(&t, &inspector, &changed_id).await["rows_updated"], 1);
        t.post(&inspector, &format!("/api/v1/imports/{changed_id}/commit"), json!({})).await.expect(StatusCode::ACCEPTED);
        settled(&t, &inspector, &changed_id).await;
        let after = t.get(&inspector, &format!("/api/v1/enterprises/{enterprise}")).await.json();
        assert_eq!(after["sector"], "metallurgy");
        assert_eq!(t.get(&inspector, "/api/v1/imports?kind=enterprises").await.json()["total"], 3);
    }

    async fn a_file_of_several_chunks_keeps_each_row_in_its_place(t: TestApp) {
        use beacon_core::enterprise::{Uscc, uscc::organisation_check};
        let inspector = t.signed_in("east.inspector", &t.tree.east, &[Role::Inspector]).await;
        let code = |i: usize| {
            let org8 = format!("{:08}", 10_000_000 + i);
            let check = organisation_check(org8.as_bytes()).unwrap() as char;
            Uscc::complete(&format!("91350100{org8}{check}")).unwrap().as_str().to_owned()
        };
        // Registered before: the file's row 1,500 names it with another trade.
        t.post(&inspector, "/api/v1/enterprises", json!({
            "uscc": code(1_500), "name": "企业1500", "unit_id": t.tree.town,
            "section": "C", "sector": "machinery",
        })).await.expect(StatusCode::CREATED);
        // Row 900's enterprise is closed; row 2,300's is held by another district.
        let closed = t.post(&inspector, "/api/v1/enterprises", json!({
            "uscc": code(900), "name": "企业900", "unit_id": t.tree.town,
            "section": "C", "sector": "machinery",
        })).await.expect(StatusCode::CREATED).json()["id"].as_str().unwrap().to_owned();
        t.post(&inspector, &format!("/api/v1/enterprises/{closed}/status"),
            json!({ "status": "closed", "reason": "注销" })).await.expect(StatusCode::OK);
        let west = t.signed_in("west.inspector", &t.tree.west, &[Role::Inspector]).await;
        t.post(&west, "/api/v1/enterprises", json!({
            "uscc": code(2_300), "name": "企业2300", "unit_id": t.tree.west,
            "section": "C", "sector": "machinery",
        })).await.expect(StatusCode::CREATED);
        // 2,450 rows: three chunks of the driver. Every 500th row from the 8th has a wrong
        // check character; row 2,200 repeats the code of row 3, two chunks earlier.
        let rows: Vec<[String; 6]> = (0..2_450)
            .map(|i| {
                let mut uscc = if i == 2_200 { code(3) } else { code(i) };
                if i % 500 == 7 {
                    let last = if uscc.ends_with('0') { '1' } else { '0' };
                    uscc.pop();
                    uscc.push(last);
                }
                let name = format!("企业{i}");
                [name, uscc, "滨江街道".into(), "C".into(), "危险化学品".into(), String::new()]
            })
            .collect();
        let rows: Vec<Vec<&str>> = rows.iter().map(|r| r.iter().map(String::as_str).collect()).collect();
        let headers = ["企业 名称", "*统一社会信用代码", "属地", "行业门类", "监管行业", "标准化有效期至"];
        let file = sheet(&headers, &rows);
        let id = upload(&t, &inspector, file.clone()).await.json()["id"].as_str().unwrap().to_owned();
        let checked = settled(&t, &inspector, &id).await;
        assert_eq!(checked["status"], "checked", "{checked}");
        assert_eq!(checked["rows_total"], 2_450);
        assert_eq!(checked["rows_refused"], 8, "{checked}");
        assert_eq!(checked["rows_updated"], 1);
        assert_eq!(checked["rows_created"], 2_441);
        // Data starts at sheet row 3: file row i is sheet row i + 3.
        let rows_of = |code: &str| -> Vec<u64> {
            let mut rows: Vec<u64> = checked["problems"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["code"] == code)
                .map(|p| p["row"].as_u64().unwrap())
                .collect();
            rows.sort_unstable();
            rows
        };
        assert_eq!(rows_of("check_character"), vec![10, 510, 1_010, 1_510, 2_010]);
        assert_eq!(rows_of("duplicate_in_file"), vec![2_203]);
        assert_eq!(rows_of("enterprise_closed"), vec![903]);
        assert_eq!(rows_of("already_exists"), vec![2_303]);

        t.post(&inspector, &format!("/api/v1/imports/{id}/commit"), json!({})).await.expect(StatusCode::ACCEPTED);
        let committed = settled(&t, &inspector, &id).await;
        assert_eq!(committed["status"], "committed", "{committed}");
        assert_eq!(committed["rows_created"], 2_441);
        assert_eq!(t.get(&inspector, "/api/v1/enterprises").await.json()["total"], 2_443);
        // A row of the last chunk, registered with what its row says and its history.
        let last = t.get(&inspector, &format!("/api/v1/enterprises?q={}", code(2_449))).await.json();
        assert_eq!(last["items"][0]["name"], "企业2449", "{last}");
        let enterprise = last["items"][0]["id"].as_str().unwrap().to_owned();
        let history = t.get(&inspector, &format!("/api/v1/enterprises/{enterprise}/history")).await.json();
        assert!(history.to_string().contains("imported"), "{history}");
        let updated = t.get(&inspector, &format!("/api/v1/enterprises?q={}", code(1_500))).await.json();
        assert_eq!(updated["items"][0]["sector"], "hazardous_chemicals", "{updated}");

        // The same file again: nothing to write, in every chunk.
        let again = upload(&t, &inspector, file).await.json();
        let again = settled(&t, &inspector, again["id"].as_str().unwrap()).await;
        assert_eq!(again["rows_unchanged"], 2_442, "{again}");
        assert_eq!(again["rows_refused"], 8);
    }

    async fn a_file_that_cannot_be_read_is_refused_whole(t: TestApp) {
        let inspector = t.signed_in("east.inspector", &t.tree.east, &[Role::Inspector]).await;
        let text = upload(&t, &inspector, b"uscc,name\n".to_vec()).await;
        text.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(text.json()["fields"]["content"], "not_a_workbook");
        upload(&t, &inspector, Vec::new()).await.expect(StatusCode::UNPROCESSABLE_ENTITY);
        let unknown = t.get(&inspector, "/api/v1/imports/template.xlsx?kind=people").await;
        assert_eq!(unknown.json()["fields"]["kind"], "unknown");

        // A sheet without the name column: the whole file fails, naming the column.
        let headers = ["统一社会信用代码", "属地单位"];
        let bytes = ledger_xlsx(&Ledger { sheet: "s", title: "t", headers: &headers, rows: vec![] }).unwrap();
        let id = upload(&t, &inspector, bytes).await.json()["id"].as_str().unwrap().to_owned();
        let failed = settled(&t, &inspector, &id).await;
        assert_eq!(failed["status"], "failed");
        assert_eq!(failed["error"], "column_missing");
        let missing: Vec<&str> = failed["problems"].as_array().unwrap().iter().map(|p| p["field"].as_str().unwrap()).collect();
        assert_eq!(missing, vec!["name", "section", "sector"]);
        t.post(&inspector, &format!("/api/v1/imports/{id}/commit"), json!({})).await.expect(StatusCode::CONFLICT);

        // The template reads back through the importer's own header matching.
        let template = t.get(&inspector, "/api/v1/imports/template.xlsx?kind=enterprises").await;
        template.expect(StatusCode::OK);
        let text = crate::enterprise::workbook_text(&template.bytes);
        assert!(text.contains("*统一社会信用代码") && text.contains("一级 / 二级 / 三级"), "{text}");
        let id = upload(&t, &inspector, template.bytes.clone()).await.json()["id"].as_str().unwrap().to_owned();
        let sample = settled(&t, &inspector, &id).await;
        // The sample row names a street that does not exist here: refused, not a column problem.
        assert_eq!(sample["status"], "checked", "{sample}");
        assert_eq!(sample["rows_total"], 1);
        assert_eq!(problem(&sample, 2, "unit_id")["code"], "not_found");
    }

    async fn licences_and_risk_points_import_under_their_enterprises(t: TestApp) {
        let inspector = t.signed_in("east.inspector", &t.tree.east, &[Role::Inspector]).await;
        let west = t.signed_in("west.inspector", &t.tree.west, &[Role::Inspector]).await;
        let made = t.post(&inspector, "/api/v1/enterprises", json!({
            "uscc": "91350100M000100Y43", "name": "临江甲化工", "unit_id": t.tree.town,
            "section": "C", "sector": "hazardous_chemicals",
        })).await;
        let id = made.json()["id"].as_str().unwrap().to_owned();
        t.post(&west, "/api/v1/enterprises", json!({
            "uscc": "91440300708461136T", "name": "江北丙厂", "unit_id": t.tree.west,
            "section": "C", "sector": "machinery",
        })).await.expect(StatusCode::CREATED);

        let headers = ["统一社会信用代码", "证照类型", "证书编号", "发证日期", "有效期至", "持证人"];
        let licences = sheet(&headers, &[
            vec!["91350100M000100Y43", "安全生产许可证", "WH-2024-001", "2024-03-01", "2027-02-28", ""],
            vec!["91440300708461136T", "安全生产许可证", "WH-2024-002", "2024-03-01", "2027-02-28", ""],
            vec!["91350100M000100Y43", "危险化学品经营许可证", "JY-01", "2024-03-01", "2023-03-01", ""],
            vec!["91350100M000100Y43", "特种作业操作证", "T-9", "2024-03-01", "2030-03-01", ""],
        ]);
        let import = upload_kind(&t, &inspector, "licences", licences.clone()).await.json();
        let import_id = import["id"].as_str().unwrap().to_owned();
        let checked = settled(&t, &inspector, &import_id).await;
        assert_eq!(checked["status"], "checked", "{checked}");
        assert_eq!(checked["rows_created"], 1);
        // Another district's enterprise is not told apart from one that does not exist.
        assert_eq!(problem(&checked, 4, "uscc")["code"], "not_found");
        assert_eq!(problem(&checked, 5, "expires_on")["code"], "before_issued");
        assert_eq!(problem(&checked, 6, "holder_name")["code"], "required");
        t.post(&inspector, &format!("/api/v1/imports/{import_id}/commit"), json!({})).await.expect(StatusCode::ACCEPTED);
        assert_eq!(settled(&t, &inspector, &import_id).await["status"], "committed");
        let listed = t.get(&inspector, &format!("/api/v1/enterprises/{id}/licences")).await.json();
        assert_eq!(listed.as_array().map_or(0, Vec::len), 1, "{listed}");
        let again = upload_kind(&t, &inspector, "licences", licences).await.json();
        let again = settled(&t, &inspector, again["id"].as_str().unwrap()).await;
        assert_eq!(again["rows_unchanged"], 1);

        let headers = ["统一社会信用代码", "风险点名称", "事故类型", "L", "E", "C", "管控层级"];
        let points = sheet(&headers, &[
            vec!["91350100M000100Y43", "液氯储罐区", "中毒和窒息；火灾", "6", "10", "7", "公司级"],
            vec!["91350100M000100Y43", "配电室", "触电", "4", "6", "3", "车间级"],
        ]);
        let import = upload_kind(&t, &inspector, "risk_points", points).await.json();
        let import_id = import["id"].as_str().unwrap().to_owned();
        let checked = settled(&t, &inspector, &import_id).await;
        assert_eq!(checked["rows_created"], 1, "{checked}");
        assert_eq!(problem(&checked, 4, "l")["code"], "not_on_scale");
        t.post(&inspector, &format!("/api/v1/imports/{import_id}/commit"), json!({})).await.expect(StatusCode::ACCEPTED);
        settled(&t, &inspector, &import_id).await;
        // D = 6 × 10 × 7 = 420: red, and the enterprise with it.
        let enterprise = t.get(&inspector, &format!("/api/v1/enterprises/{id}")).await.json();
        assert_eq!(enterprise["colour"], "red", "{enterprise}");
        let template = t.get(&inspector, "/api/v1/imports/template.xlsx?kind=risk_points&lang=en").await;
        assert!(crate::enterprise::workbook_text(&template.bytes).contains("Control level"));
    }
}

/// A hidden-danger ledger as a district keeps it: its own column order and header words.
fn danger_ledger(rows: &[[&str; 14]]) -> Vec<u8> {
    let headers = [
        "隐患编号",
        "统一社会信用代码",
        "隐患等级",
        "隐患类别",
        "来源",
        "隐患部位",
        "隐患描述",
        "判定依据",
        "排查日期",
        "整改期限",
        "整改责任人",
        "整改状态",
        "销号日期",
        "验收人",
    ];
    let rows: Vec<Vec<&str>> = rows.iter().map(|r| r.to_vec()).collect();
    sheet(&headers, &rows)
}

backend_tests! {
    async fn a_hidden_danger_ledger_is_imported_once_in_the_states_it_holds(t: TestApp) {
        let inspector = t.signed_in("east.inspector", &t.tree.east, &[Role::Inspector]).await;
        let west = t.signed_in("west.inspector", &t.tree.west, &[Role::Inspector]).await;
        let viewer = t.signed_in("east.viewer", &t.tree.east, &[Role::Viewer]).await;
        for (who, uscc, unit) in [
            (&inspector, "91350100M000100Y43", &t.tree.town),
            (&west, "91440300708461136T", &t.tree.west),
        ] {
            t.post(who, "/api/v1/enterprises", json!({
                "uscc": uscc, "name": format!("企业{uscc}"), "unit_id": unit,
                "section": "C", "sector": "hazardous_chemicals",
            })).await.expect(StatusCode::CREATED);
        }
        let own = "91350100M000100Y43";
        let rows = [
            ["A-1", own, "一般", "现场管理类", "执法检查", "二号仓库", "灭火器压力不足", "", "2026-02-20", "2026-03-06", "李仓管", "整改中", "", ""],
            ["A-2", own, "重大隐患", "现场管理", "执法检查", "液氯储罐区", "未设泄漏检测报警", "危险化学品企业重大隐患判定标准 第十条", "2026-02-20", "2026-05-31", "张厂长", "整改中", "", ""],
            ["A-3", own, "一般", "基础管理类", "企业自查", "安全管理部", "培训记录缺失", "", "2026-01-10", "2026-02-10", "", "已销号", "2026-02-08", "王检查"],
            ["A-4", own, "一般", "现场管理类", "专项整治检查", "配电室", "绝缘垫缺失", "", "2026-01-05", "2026-01-31", "", "未整改", "", ""],
            ["A-1", own, "一般", "现场管理类", "执法检查", "二号仓库", "重复的一行", "", "2026-02-20", "2026-03-06", "", "整改中", "", ""],
            ["B-1", "91440300708461136T", "一般", "现场管理类", "执法检查", "车间", "别的区的企业", "", "2026-02-20", "2026-03-06", "", "整改中", "", ""],
            ["A-5", own, "重大", "现场管理类", "执法检查", "反应釜", "未设联锁", "某条", "2026-02-20", "2026-03-31", "", "待验收", "", ""],
            ["A-6", own, "一般", "现场管理类", "执法检查", "车间", "已销号但没写日期", "", "2026-02-20", "2026-03-06", "", "已销号", "", ""],
            ["A-7", own, "较大", "现场管理类", "执法检查", "车间", "等级和期限都不对", "", "2026-02-20", "2026-02-01", "", "整改中", "", ""],
            ["A-8", own, "一般", "现场管理类", "执法检查", "车间", "未销号却有销号日期", "", "2026-02-20", "2026-03-06", "", "整改中", "2026-02-25", "王检查"],
            ["A-9", own, "重大", "现场管理类", "执法检查", "车间", "重大隐患没有依据", "", "2026-02-20", "2026-03-06", "", "整改中", "", ""],
        ];
        let file = danger_ledger(&rows);

        // Only the ledger's regulators import it.
        upload_kind(&t, &viewer, "hidden_dangers", file.clone()).await.expect(StatusCode::FORBIDDEN);
        let made = upload_kind(&t, &inspector, "hidden_dangers", file.clone()).await;
        let id = made.expect(StatusCode::ACCEPTED).json()["id"].as_str().unwrap().to_owned();
        let checked = settled(&t, &inspector, &id).await;
        assert_eq!(checked["status"], "checked", "{checked}");
        assert_eq!((checked["rows_total"].as_i64(), checked["rows_created"].as_i64()), (Some(11), Some(4)));
        assert_eq!(checked["rows_refused"], 7);
        // Row 1 is the title, row 2 the headers: A-1 is row 3.
        assert_eq!(problem(&checked, 7, "source_number")["code"], "duplicate_in_file");
        assert_eq!(problem(&checked, 8, "uscc")["code"], "not_found");
        assert_eq!(problem(&checked, 9, "state")["code"], "major_plan_first");
        assert_eq!(problem(&checked, 10, "closed_on")["code"], "required");
        assert_eq!(problem(&checked, 10, "closed_by")["code"], "required");
        assert_eq!(problem(&checked, 11, "level")["code"], "unknown");
        assert_eq!(problem(&checked, 11, "level")["column"], "隐患等级");
        assert_eq!(problem(&checked, 12, "closed_on")["code"], "not_closed");
        assert_eq!(problem(&checked, 12, "closed_by")["code"], "not_closed");
        assert_eq!(problem(&checked, 13, "criterion")["code"], "required");
        assert_eq!(t.get(&inspector, "/api/v1/hazards").await.json()["total"], 0, "a dry run writes nothing");
        // The west neither sees nor commits it.
        t.get(&west, &format!("/api/v1/imports/{id}")).await.expect(StatusCode::NOT_FOUND);
        t.post(&west, &format!("/api/v1/imports/{id}/commit"), json!({})).await.expect(StatusCode::NOT_FOUND);

        t.post(&inspector, &format!("/api/v1/imports/{id}/commit"), json!({})).await.expect(StatusCode::ACCEPTED);
        let committed = settled(&t, &inspector, &id).await;
        assert_eq!(committed["status"], "committed", "{committed}");
        assert_eq!(committed["rows_created"], 4);
        let ledger = t.get(&inspector, "/api/v1/hazards?per_page=50").await.json();
        assert_eq!(ledger["total"], 4, "{ledger}");
        let by = |n: &str| -> serde_json::Value {
            ledger["items"].as_array().unwrap().iter().find(|d| d["source_number"] == n).cloned()
                .unwrap_or_else(|| panic!("{n} in {ledger}"))
        };
        assert_eq!(by("A-1")["status"], "rectifying");
        assert_eq!(by("A-2")["status"], "awaiting_plan", "an open major one waits for its plan");
        assert_eq!(by("A-2")["level"], "major");
        let closed = by("A-3");
        assert_eq!((closed["status"].as_str(), closed["closed_by_name"].as_str()), (Some("closed"), Some("王检查")));
        assert_eq!(closed["closed_at"], "2026-02-07T16:00:00Z", "closed at the start of its day, Beijing time");
        assert_eq!(closed["origin"], "self_inspection");
        let late = by("A-4");
        assert_eq!((late["overdue"].as_bool(), late["origin"].as_str()), (Some(true), Some("campaign")));
        let number = late["number"].as_str().unwrap();
        assert!(number.starts_with("YH-") && number.contains("-2026-"), "numbered by the year found: {number}");
        let history = t.get(&inspector, &format!("/api/v1/hazards/{}/history", by("A-1")["id"].as_str().unwrap())).await.json();
        assert_eq!(history[0]["kind"], "imported", "{history}");
        assert_eq!(history[0]["data"]["source_number"], "A-1");
        // An old overdue one is overdue at once, without a burst of late alerts; the open ones'
        // clocks run from now: A-1's reminder three days before its deadline.
        assert_eq!(beacon_api::notify::run_due_deadlines(&t.state).await.unwrap(), 0);
        t.clock.advance(Duration::days(2));
        assert_eq!(beacon_api::notify::run_due_deadlines(&t.state).await.unwrap(), 1);
        let inspector = t.login("east.inspector", crate::PASSWORD).await.session();

        // The same file again changes nothing.
        let again = upload_kind(&t, &inspector, "hidden_dangers", file).await;
        let again_id = again.json()["id"].as_str().unwrap().to_owned();
        let again = settled(&t, &inspector, &again_id).await;
        assert_eq!((again["rows_unchanged"].as_i64(), again["rows_created"].as_i64()), (Some(4), Some(0)), "{again}");
        t.post(&inspector, &format!("/api/v1/imports/{again_id}/commit"), json!({})).await.expect(StatusCode::CONFLICT);

        // Words may change through a later file; what the steps change may not.
        let mut reworded = rows[0];
        reworded[6] = "灭火器压力不足，且过期未检";
        let mut relevelled = rows[1];
        relevelled[2] = "一般";
        let mut reopened = rows[2];
        reopened[6] = "培训记录缺失（补记）";
        let changed = upload_kind(&t, &inspector, "hidden_dangers", danger_ledger(&[reworded, relevelled, reopened])).await;
        let changed_id = changed.json()["id"].as_str().unwrap().to_owned();
        let changed = settled(&t, &inspector, &changed_id).await;
        assert_eq!(changed["rows_updated"], 1, "{changed}");
        assert_eq!(problem(&changed, 4, "level")["code"], "danger_differs");
        assert_eq!(problem(&changed, 5, "description")["code"], "danger_closed");
        t.post(&inspector, &format!("/api/v1/imports/{changed_id}/commit"), json!({})).await.expect(StatusCode::ACCEPTED);
        assert_eq!(settled(&t, &inspector, &changed_id).await["status"], "committed");
        let one = t.get(&inspector, &format!("/api/v1/hazards/{}", by("A-1")["id"].as_str().unwrap())).await.json();
        assert_eq!(one["description"], "灭火器压力不足，且过期未检");
        let history = t.get(&inspector, &format!("/api/v1/hazards/{}/history", by("A-1")["id"].as_str().unwrap())).await.json();
        let last = history.as_array().unwrap().iter().rfind(|h| h["kind"] == "updated").unwrap_or_else(|| panic!("{history}"));
        assert_eq!(last["data"]["description"]["to"], "灭火器压力不足，且过期未检");

        // The template reads back through the importer's own header matching.
        let template = t.get(&inspector, "/api/v1/imports/template.xlsx?kind=hidden_dangers").await;
        template.expect(StatusCode::OK);
        let text = crate::enterprise::workbook_text(&template.bytes);
        for header in ["原台账编号", "整改状态", "销号日期", "验收人"] {
            assert!(text.contains(header), "{header} in {text}");
        }
        let sample = upload_kind(&t, &inspector, "hidden_dangers", template.bytes.clone()).await;
        let sample = settled(&t, &inspector, sample.json()["id"].as_str().unwrap()).await;
        assert_eq!(sample["status"], "checked", "{sample}");
    }
}
