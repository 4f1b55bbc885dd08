-- Inspections (docs/inspections.md): checklists a finding cites, inspections of an enterprise
-- (a regulator's law-enforcement inspection or the enterprise's own check) with the people who
-- made them and their findings; a finding becomes a hidden danger with one action
-- (`danger_id`). An inspection is reached through its enterprise, like a hidden danger.
-- The twin of this file for the other database must define the same tables, indexes and rows.

CREATE TABLE checklists (
    id         TEXT NOT NULL PRIMARY KEY,
    name       TEXT NOT NULL,
    -- The document the items come from, as cited.
    basis      TEXT NOT NULL,
    version    BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX ux_checklists_name ON checklists (name);

CREATE TABLE checklist_items (
    id           TEXT NOT NULL PRIMARY KEY,
    checklist_id TEXT NOT NULL REFERENCES checklists (id),
    -- Where in the basis (第十二项, 第三条（一）).
    clause       TEXT NOT NULL,
    text         TEXT NOT NULL,
    -- The basis marks the situation a major hidden danger: a finding citing it is major by default.
    major        BOOLEAN NOT NULL,
    retired      BOOLEAN NOT NULL,
    sort_order   BIGINT NOT NULL,
    version      BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX ix_checklist_items_list ON checklist_items (checklist_id, sort_order);

CREATE TABLE inspections (
    id              TEXT NOT NULL PRIMARY KEY,
    -- JC-<unit code>-<year>-<sequence>.
    number          TEXT NOT NULL,
    enterprise_id   TEXT NOT NULL REFERENCES enterprises (id),
    kind            TEXT NOT NULL,
    inspected_on    TEXT NOT NULL,
    -- The people who made it, a JSON array of names.
    inspectors      TEXT NOT NULL,
    checklist_id    TEXT REFERENCES checklists (id),
    -- Who signed the record for the enterprise.
    signatory       TEXT NOT NULL,
    summary         TEXT NOT NULL,
    created_by_name TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX ux_inspections_number ON inspections (number);
CREATE INDEX ix_inspections_enterprise ON inspections (enterprise_id, inspected_on);
CREATE INDEX ix_inspections_date ON inspections (inspected_on);

CREATE TABLE inspection_findings (
    id            TEXT NOT NULL PRIMARY KEY,
    inspection_id TEXT NOT NULL REFERENCES inspections (id),
    seq           BIGINT NOT NULL,
    item_id       TEXT REFERENCES checklist_items (id),
    -- The item as cited when the finding was made (its checklist, clause and text).
    criterion     TEXT NOT NULL,
    place         TEXT NOT NULL,
    description   TEXT NOT NULL,
    level         TEXT NOT NULL,
    danger_id     TEXT REFERENCES hidden_dangers (id)
);
CREATE UNIQUE INDEX ux_inspection_findings_seq ON inspection_findings (inspection_id, seq);
CREATE UNIQUE INDEX ux_inspection_findings_danger ON inspection_findings (danger_id);

-- The checklists shipped: only items whose text was read in a source
-- (docs/research/hazard-criteria.md), punctuation made full-width; an administrator adds the rest.

INSERT INTO checklists (id, name, basis, version, created_at, updated_at) VALUES
    ('0194a000-0000-7000-8000-000000000001', '化工和危险化学品生产经营单位重大生产安全事故隐患判定标准（试行）', '安监总管三〔2017〕121号', 1, 1767225600000, 1767225600000),
    ('0194a000-0000-7000-8000-000000000002', '工贸企业重大事故隐患判定标准', '应急管理部令第10号（2023年5月15日起施行）', 1, 1767225600000, 1767225600000);
INSERT INTO checklist_items (id, checklist_id, clause, text, major, retired, sort_order, version, created_at, updated_at) VALUES
    ('0194a000-0000-7000-8001-000000000001', '0194a000-0000-7000-8000-000000000001', '第一项', '危险化学品生产、经营单位主要负责人和安全生产管理人员未依法经考核合格。', TRUE, FALSE, 1, 1, 1767225600000, 1767225600000),
    ('0194a000-0000-7000-8001-000000000002', '0194a000-0000-7000-8000-000000000001', '第二项', '特种作业人员未持证上岗。', TRUE, FALSE, 2, 1, 1767225600000, 1767225600000),
    ('0194a000-0000-7000-8001-000000000003', '0194a000-0000-7000-8000-000000000001', '第三项', '涉及“两重点一重大”的生产装置、储存设施外部安全防护距离不符合国家标准要求。', TRUE, FALSE, 3, 1, 1767225600000, 1767225600000),
    ('0194a000-0000-7000-8001-000000000004', '0194a000-0000-7000-8000-000000000001', '第四项', '涉及重点监管危险化工工艺的装置未实现自动化控制，系统未实现紧急停车功能，装备的自动化控制系统、紧急停车系统未投入使用。', TRUE, FALSE, 4, 1, 1767225600000, 1767225600000),
    ('0194a000-0000-7000-8001-000000000005', '0194a000-0000-7000-8000-000000000001', '第五项', '构成一级、二级重大危险源的危险化学品罐区未实现紧急切断功能；涉及毒性气体、液化气体、剧毒液体的一级、二级重大危险源的危险化学品罐区未配备独立的安全仪表系统。', TRUE, FALSE, 5, 1, 1767225600000, 1767225600000),
    ('0194a000-0000-7000-8001-000000000006', '0194a000-0000-7000-8000-000000000001', '第六项', '全压力式液化烃储罐未按国家标准设置注水措施。', TRUE, FALSE, 6, 1, 1767225600000, 1767225600000),
    ('0194a000-0000-7000-8001-000000000007', '0194a000-0000-7000-8000-000000000001', '第七项', '液化烃、液氨、液氯等易燃易爆、有毒有害液化气体的充装未使用万向管道充装系统。', TRUE, FALSE, 7, 1, 1767225600000, 1767225600000),
    ('0194a000-0000-7000-8001-000000000008', '0194a000-0000-7000-8000-000000000001', '第八项', '光气、氯气等剧毒气体及硫化氢气体管道穿越除厂区（包括化工园区、工业园区）外的公共区域。', TRUE, FALSE, 8, 1, 1767225600000, 1767225600000),
    ('0194a000-0000-7000-8001-000000000009', '0194a000-0000-7000-8000-000000000001', '第九项', '地区架空电力线路穿越生产区且不符合国家标准要求。', TRUE, FALSE, 9, 1, 1767225600000, 1767225600000),
    ('0194a000-0000-7000-8001-000000000010', '0194a000-0000-7000-8000-000000000001', '第十项', '在役化工装置未经正规设计且未进行安全设计诊断。', TRUE, FALSE, 10, 1, 1767225600000, 1767225600000),
    ('0194a000-0000-7000-8001-000000000011', '0194a000-0000-7000-8000-000000000001', '第十一项', '使用淘汰落后安全技术工艺、设备目录列出的工艺、设备。', TRUE, FALSE, 11, 1, 1767225600000, 1767225600000),
    ('0194a000-0000-7000-8001-000000000012', '0194a000-0000-7000-8000-000000000001', '第十二项', '涉及可燃和有毒有害气体泄漏的场所未按国家标准设置检测报警装置，爆炸危险场所未按国家标准安装使用防爆电气设备。', TRUE, FALSE, 12, 1, 1767225600000, 1767225600000),
    ('0194a000-0000-7000-8001-000000000013', '0194a000-0000-7000-8000-000000000001', '第十三项', '控制室或机柜间面向具有火灾、爆炸危险性装置一侧不满足国家标准关于防火防爆的要求。', TRUE, FALSE, 13, 1, 1767225600000, 1767225600000),
    ('0194a000-0000-7000-8001-000000000014', '0194a000-0000-7000-8000-000000000001', '第十四项', '化工生产装置未按国家标准要求设置双重电源供电，自动化控制系统未设置不间断电源。', TRUE, FALSE, 14, 1, 1767225600000, 1767225600000),
    ('0194a000-0000-7000-8001-000000000015', '0194a000-0000-7000-8000-000000000001', '第十五项', '安全阀、爆破片等安全附件未正常投用。', TRUE, FALSE, 15, 1, 1767225600000, 1767225600000),
    ('0194a000-0000-7000-8001-000000000016', '0194a000-0000-7000-8000-000000000001', '第十六项', '未建立与岗位相匹配的全员安全生产责任制或者未制定实施生产安全事故隐患排查治理制度。', TRUE, FALSE, 16, 1, 1767225600000, 1767225600000),
    ('0194a000-0000-7000-8001-000000000017', '0194a000-0000-7000-8000-000000000001', '第十七项', '未制定操作规程和工艺控制指标。', TRUE, FALSE, 17, 1, 1767225600000, 1767225600000),
    ('0194a000-0000-7000-8001-000000000018', '0194a000-0000-7000-8000-000000000001', '第十八项', '未按照国家标准制定动火、进入受限空间等特殊作业管理制度，或者制度未有效执行。', TRUE, FALSE, 18, 1, 1767225600000, 1767225600000),
    ('0194a000-0000-7000-8001-000000000019', '0194a000-0000-7000-8000-000000000001', '第十九项', '新开发的危险化学品生产工艺未经小试、中试、工业化试验直接进行工业化生产；国内首次使用的化工工艺未经过省级人民政府有关部门组织的安全可靠性论证；新建装置未制定试生产方案投料开车；精细化工企业未按规范性文件要求开展反应安全风险评估。', TRUE, FALSE, 19, 1, 1767225600000, 1767225600000),
    ('0194a000-0000-7000-8001-000000000020', '0194a000-0000-7000-8000-000000000001', '第二十项', '未按国家标准分区分类储存危险化学品，超量、超品种储存危险化学品，相互禁配物质混放混存。', TRUE, FALSE, 20, 1, 1767225600000, 1767225600000),
    ('0194a000-0000-7000-8001-000000000021', '0194a000-0000-7000-8000-000000000002', '第三条（一）', '未对承包单位、承租单位的安全生产工作统一协调、管理，或者未定期进行安全检查的；', TRUE, FALSE, 1, 1, 1767225600000, 1767225600000),
    ('0194a000-0000-7000-8001-000000000022', '0194a000-0000-7000-8000-000000000002', '第三条（二）', '特种作业人员未按照规定经专门的安全作业培训并取得相应资格，上岗作业的；', TRUE, FALSE, 2, 1, 1767225600000, 1767225600000),
    ('0194a000-0000-7000-8001-000000000023', '0194a000-0000-7000-8000-000000000002', '第三条（三）', '金属冶炼企业主要负责人、安全生产管理人员未按照规定经考核合格的。', TRUE, FALSE, 3, 1, 1767225600000, 1767225600000),
    ('0194a000-0000-7000-8001-000000000024', '0194a000-0000-7000-8000-000000000002', '第十四条', '本标准所列情形中直接关系生产安全的监控、报警、防护等设施、设备、装置，应当保证正常运行、使用，失效或者无效均判定为重大事故隐患。', TRUE, FALSE, 4, 1, 1767225600000, 1767225600000);
