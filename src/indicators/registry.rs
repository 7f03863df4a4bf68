//! Every column gridgov writes, with its Chinese label, unit and formula. `gridgov indicators`
//! prints it, each run writes it as `dictionary.csv`, and a test checks that every column of
//! every output table is listed here.

/// One output column.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub key: &'static str,
    pub zh: &'static str,
    pub unit: &'static str,
    /// Formula or definition; numerators and denominators are other keys.
    pub formula: &'static str,
}

const fn f(key: &'static str, zh: &'static str, unit: &'static str, formula: &'static str) -> Field {
    Field { key, zh, unit, formula }
}

/// All fields, in output order.
pub const FIELDS: &[Field] = &[
    f("grid_code", "网格编码", "", "code of the grid (text)"),
    f("grid_name", "网格名称", "", "name of the grid"),
    f("community_code", "社区编码", "", "code of the community (text)"),
    f("community_name", "社区名称", "", "name of the community"),
    f("street_code", "街道编码", "", "code of the street / township (text)"),
    f("street_name", "街道名称", "", "name of the street / township"),
    f("district_code", "区编码", "", "code of the district (text)"),
    f("district_name", "区名称", "", "name of the district"),
    f("city_name", "城市", "", "the whole area of the pipeline (its title)"),
    f("category", "问题类别", "", "first-level category of the case (empty key: no category)"),
    f("department", "承办部门", "", "department or unit that handled the case"),
    f("channel", "来源渠道", "", "channel the case came in through"),
    f("period", "统计期", "YYYY-MM", "reporting period: a month YYYY-MM, or start..end"),
    f("period_start", "统计期起始", "local time", "first moment of the period, local time without offset"),
    f("as_of", "数据截止日", "date", "states (closed, open, overdue, signed) are read at the end of this day"),
    f("population", "常住人口", "persons", "sum of the grids' population"),
    f("households", "户数", "households", "sum of the grids' households"),
    f("area_km2", "面积", "km²", "area on the WGS84 ellipsoid (authalic sphere, exact spherical excess per edge), sum of the grids"),
    f("cases", "诉求量", "cases", "cases received in the period and assigned to the unit"),
    f("cases_per_10k", "万人诉求比", "cases / 10k residents", "cases / population × 10,000 (empty when population is 0 or unknown)"),
    f("density_per_km2", "诉求密度", "cases / km²", "cases / area_km2"),
    f("followups", "有效回访数", "cases", "non-cancelled cases with a valid follow-up call (denominator of the three rates)"),
    f("contacted", "已联系数", "cases", "valid follow-ups where the caller says they were contacted"),
    f("resolved", "已解决数", "cases", "valid follow-ups where the caller says the problem is resolved"),
    f("satisfied", "满意数", "cases", "valid follow-ups answering 满意"),
    f("basically_satisfied", "基本满意数", "cases", "valid follow-ups answering 基本满意"),
    f("unsatisfied", "不满意数", "cases", "valid follow-ups answering 不满意"),
    f("satisfaction_points", "满意得分", "cases", "satisfied + w × basically_satisfied (w = indicators.satisfaction_basic_weight)"),
    f("response_rate", "响应率", "share", "contacted / followups"),
    f("resolution_rate", "解决率", "share", "resolved / followups"),
    f("satisfaction_rate", "满意率", "share", "satisfaction_points / followups"),
    f(
        "composite_score",
        "综合成绩",
        "points (0-100)",
        "(w_r × response_rate + w_s × resolution_rate + w_m × satisfaction_rate) × 100; empty when followups < min_n",
    ),
    f("composite_rank", "综合排名", "rank", "rank by composite_score desc, then cases desc, then code; ties share a rank"),
    f("grade", "评价等级", "A-E", "A ≥ bands[0], B ≥ bands[1], C ≥ bands[2], D ≥ bands[3], else E (indicators.grade_bands)"),
    f("should_close", "应结案数", "cases", "non-cancelled cases owed a closure at as-of (indicators.should_be_closed)"),
    f("closed", "结案数", "cases", "non-cancelled cases closed on or before the as-of moment"),
    f("closed_on_time", "按期结案数", "cases", "closed cases whose closed time ≤ due time"),
    f("closure_rate", "结案率", "share", "closed / should_close"),
    f("on_time_closure_rate", "按期结案率", "share", "closed_on_time / should_close"),
    f("cancelled", "撤销数", "cases", "cases whose status is a cancelled status (counted in cases only)"),
    f("open", "未结案数", "cases", "non-cancelled cases not closed at the as-of moment"),
    f("overdue_open", "超期未结案数", "cases", "open cases whose due time is before the as-of moment (red light)"),
    f("overdue_open_rate", "超期未结率", "share", "overdue_open / open"),
    f("handling_hours_median", "处置时长中位数", "hours", "median of (closed − received) over closed cases, linear interpolation (type 7)"),
    f("handling_hours_p90", "处置时长P90", "hours", "90th percentile of (closed − received) over closed cases, type 7"),
    f("cases_prev_month", "上月诉求量", "cases", "cases of the same unit in the previous month (monthly tables)"),
    f("cases_mom_rate", "诉求量环比", "share", "(cases − cases_prev_month) / cases_prev_month"),
    f("composite_mom_change", "综合成绩环比变化", "points", "composite_score − previous month's composite_score"),
    f("signup_households", "应签约户数", "households", "in-scope households of all projects in the unit"),
    f("signup_signed", "已签约户数", "households", "in-scope households signed on or before as-of"),
    f("signup_out_of_scope", "范围外户数", "households", "households marked out of scope (not in the rate)"),
    f("signup_rate", "签约率", "share", "signup_signed / signup_households"),
    f("project_id", "项目编号", "", "renovation project id"),
    f("project_name", "项目名称", "", "renovation project name"),
    f("households_in_scope", "应签约户数", "households", "in-scope households of the project"),
    f("households_out_of_scope", "范围外户数", "households", "out-of-scope households of the project"),
    f("signed", "已签约户数", "households", "in-scope households signed on or before as-of"),
    f("threshold", "生效比例", "share", "sign-up share at which the project takes effect"),
    f("first_signed", "首签日期", "date", "first signing day"),
    f("threshold_reached_on", "达到生效比例日期", "date", "first day cumulative signed / households_in_scope ≥ threshold"),
    f("days_to_threshold", "达标用时", "days", "threshold_reached_on − first_signed"),
    f("date", "日期", "date", "calendar day"),
    f("signed_cumulative", "累计签约户数", "households", "in-scope households signed on or before the day"),
    f("signup_rate_cumulative", "累计签约率", "share", "signed_cumulative / households_in_scope"),
    f("class", "分级", "class", "class of the mapped indicator (reserved for map styling)"),
];

/// The field of a key.
pub fn field(key: &str) -> Option<&'static Field> {
    FIELDS.iter().find(|f| f.key == key)
}
