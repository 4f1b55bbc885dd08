//! An incident proposed from a call in the duty log: a short title, the kind the call's category
//! and words suggest, and the unit the call names. The officer checks and completes the form;
//! nothing here is registered without them.

use super::IncidentKind;

/// Longest proposed title, in characters: a list line, not the whole summary.
pub const TITLE_CHARS: usize = 30;

/// The summary's first clause, at most [`TITLE_CHARS`] characters: "某化工厂储罐起火，现场
/// 有浓烟…" proposes "某化工厂储罐起火".
pub fn short_title(summary: &str) -> String {
    let first = summary
        .split(|c: char| "。，,；;！!？?\n".contains(c))
        .map(str::trim)
        .find(|part| !part.is_empty())
        .unwrap_or_default();
    let words: String = first.split_whitespace().collect::<Vec<_>>().join(" ");
    if words.chars().count() <= TITLE_CHARS {
        words
    } else {
        words.chars().take(TITLE_CHARS - 1).chain(['…']).collect()
    }
}

/// Words that name a kind, checked in order (the more specific first).
const ACCIDENT_WORDS: &[(&[&str], IncidentKind)] = &[
    (&["煤矿", "井下", "瓦斯"], IncidentKind::CoalMining),
    (&["烟花", "爆竹"], IncidentKind::Fireworks),
    (&["危化", "化工", "危险化学品", "储罐", "泄漏", "槽罐"], IncidentKind::HazardousChemicals),
    (&["矿山", "尾矿", "采石"], IncidentKind::NonCoalMining),
    (&["工地", "施工", "脚手架", "塔吊", "基坑"], IncidentKind::Construction),
    (&["电梯", "锅炉", "起重", "压力容器", "叉车"], IncidentKind::SpecialEquipment),
    (&["车祸", "追尾", "侧翻", "交通事故", "撞车", "相撞"], IncidentKind::RoadTraffic),
    (&["沉船", "翻船", "船舶", "渡船", "落水"], IncidentKind::WaterTransport),
    (&["火灾", "起火", "着火", "失火"], IncidentKind::Fire),
];

const DISASTER_WORDS: &[(&[&str], IncidentKind)] = &[
    (&["地震"], IncidentKind::Earthquake),
    (&["山火", "森林火", "林火"], IncidentKind::ForestFire),
    (&["滑坡", "泥石流", "崩塌", "塌陷", "地裂"], IncidentKind::Geological),
    (&["洪水", "内涝", "积水", "漫堤", "溃堤", "洪涝"], IncidentKind::Flood),
    (
        &["暴雨", "台风", "冰雹", "大风", "暴雪", "雷电", "寒潮", "高温"],
        IncidentKind::Meteorological,
    ),
];

fn by_words(table: &[(&[&str], IncidentKind)], text: &str) -> Option<IncidentKind> {
    table.iter().find(|(words, _)| words.iter().any(|w| text.contains(w))).map(|(_, kind)| *kind)
}

/// The kind a call's category (`LOG_CATEGORIES`) and words suggest, or none when they do not
/// say (an inquiry, a rescue request of unknown cause): the officer chooses.
pub fn kind_of_call(category: &str, text: &str) -> Option<IncidentKind> {
    match category {
        "fire" => Some(
            by_words(DISASTER_WORDS, text)
                .filter(|k| *k == IncidentKind::ForestFire)
                .unwrap_or(IncidentKind::Fire),
        ),
        "accident" => Some(by_words(ACCIDENT_WORDS, text).unwrap_or(IncidentKind::OtherProduction)),
        "natural_disaster" => by_words(DISASTER_WORDS, text),
        "public_health" | "public_security" => Some(IncidentKind::OtherEmergency),
        "rescue_request" | "other" => {
            by_words(ACCIDENT_WORDS, text).or_else(|| by_words(DISASTER_WORDS, text))
        }
        _ => None,
    }
}

/// The unit a call names: the longest of the candidates' names found in the text, else none.
pub fn unit_named<'a, U>(text: &str, units: &'a [U], name: impl Fn(&U) -> &str) -> Option<&'a U> {
    units
        .iter()
        .filter(|u| {
            let n = name(u);
            n.chars().count() >= 2 && text.contains(n)
        })
        .max_by_key(|u| name(u).chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_title_is_the_first_clause_and_short() {
        assert_eq!(short_title("某化工厂储罐起火，现场有浓烟，暂无人员伤亡。"), "某化工厂储罐起火");
        assert_eq!(short_title("  \n江北区  滨江路 积水"), "江北区 滨江路 积水");
        let long = "一".repeat(50);
        let title = short_title(&long);
        assert_eq!(title.chars().count(), TITLE_CHARS);
        assert!(title.ends_with('…'));
        assert_eq!(short_title(""), "");
    }

    #[test]
    fn the_category_and_words_suggest_the_kind() {
        assert_eq!(kind_of_call("accident", "高速公路两车追尾"), Some(IncidentKind::RoadTraffic));
        assert_eq!(
            kind_of_call("accident", "化工厂储罐泄漏"),
            Some(IncidentKind::HazardousChemicals)
        );
        assert_eq!(kind_of_call("accident", "有人受伤"), Some(IncidentKind::OtherProduction));
        assert_eq!(kind_of_call("fire", "居民楼起火"), Some(IncidentKind::Fire));
        assert_eq!(kind_of_call("fire", "后山山火蔓延"), Some(IncidentKind::ForestFire));
        assert_eq!(
            kind_of_call("natural_disaster", "山体滑坡堵路"),
            Some(IncidentKind::Geological)
        );
        assert_eq!(kind_of_call("natural_disaster", "不明情况"), None);
        assert_eq!(kind_of_call("public_health", "食物中毒"), Some(IncidentKind::OtherEmergency));
        assert_eq!(kind_of_call("inquiry", "询问值班电话"), None);
    }

    #[test]
    fn the_longest_unit_name_in_the_text_wins() {
        let units = ["临江市", "江北区", "江北区滨江街道", "区"];
        let found = unit_named("江北区滨江街道某小区积水", &units, |u| u);
        assert_eq!(found, Some(&"江北区滨江街道"));
        assert_eq!(unit_named("不知道在哪", &units, |u| u), None);
    }
}
