//! Reference data that classifies an enterprise: the sections of the national industrial
//! classification (国民经济行业分类, GB/T 4754-2017, 门类 A–T) and the sectors that safety
//! supervision is organised by (行业监管). Codes are stored; names are shown (the web translates
//! them; imports match the Chinese names as well as the codes).

/// GB/T 4754-2017 sections: code and Chinese name.
pub const SECTIONS: [(&str, &str); 20] = [
    ("A", "农、林、牧、渔业"),
    ("B", "采矿业"),
    ("C", "制造业"),
    ("D", "电力、热力、燃气及水生产和供应业"),
    ("E", "建筑业"),
    ("F", "批发和零售业"),
    ("G", "交通运输、仓储和邮政业"),
    ("H", "住宿和餐饮业"),
    ("I", "信息传输、软件和信息技术服务业"),
    ("J", "金融业"),
    ("K", "房地产业"),
    ("L", "租赁和商务服务业"),
    ("M", "科学研究和技术服务业"),
    ("N", "水利、环境和公共设施管理业"),
    ("O", "居民服务、修理和其他服务业"),
    ("P", "教育"),
    ("Q", "卫生和社会工作"),
    ("R", "文化、体育和娱乐业"),
    ("S", "公共管理、社会保障和社会组织"),
    ("T", "国际组织"),
];

/// The supervised sectors (危险化学品、非煤矿山、烟花爆竹 and the eight industry-and-trade
/// sectors 冶金、有色、建材、机械、轻工、纺织、烟草、商贸), and `other` for the rest.
pub const SECTORS: [(&str, &str); 12] = [
    ("hazardous_chemicals", "危险化学品"),
    ("non_coal_mining", "非煤矿山"),
    ("fireworks", "烟花爆竹"),
    ("metallurgy", "冶金"),
    ("non_ferrous", "有色"),
    ("building_materials", "建材"),
    ("machinery", "机械"),
    ("light_industry", "轻工"),
    ("textiles", "纺织"),
    ("tobacco", "烟草"),
    ("commerce_trade", "商贸"),
    ("other", "其他"),
];

/// A section's code from its code or Chinese name (spaces ignored), for forms and imports.
pub fn section(input: &str) -> Option<&'static str> {
    lookup(&SECTIONS, input)
}

/// A sector's code from its code or Chinese name.
pub fn sector(input: &str) -> Option<&'static str> {
    lookup(&SECTORS, input)
}

pub(crate) fn lookup(table: &[(&'static str, &'static str)], input: &str) -> Option<&'static str> {
    let wanted: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    table
        .iter()
        .find(|(code, name)| code.eq_ignore_ascii_case(&wanted) || *name == wanted)
        .map(|(code, _)| *code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn found_by_code_or_name() {
        assert_eq!(section("c"), Some("C"));
        assert_eq!(section(" 制造业 "), Some("C"));
        assert_eq!(section("U"), None);
        assert_eq!(sector("危险化学品"), Some("hazardous_chemicals"));
        assert_eq!(sector("Fireworks"), Some("fireworks"));
        assert_eq!(sector("煤矿"), None);
    }

    #[test]
    fn codes_are_unique() {
        for table in [&SECTIONS[..], &SECTORS[..]] {
            let mut codes: Vec<_> = table.iter().map(|(c, _)| *c).collect();
            codes.sort_unstable();
            codes.dedup();
            assert_eq!(codes.len(), table.len());
        }
    }
}
