//! Why a row or a grid could not be used: the reason codes of the quarantine, `rejects.csv`,
//! the manifest and the quality gates (docs/indicators.md, "Quarantine reasons").
//!
//! A code is written as its snake_case name; codes sort by that name wherever they are listed,
//! so a table of counts reads the same whatever order the variants are declared in.

use serde::Serialize;

/// A reason code. Each variant says what to do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The case id field is empty: map `case_id` to the export's id column.
    MissingCaseId,
    /// The household id field is empty.
    MissingHouseholdId,
    /// The project id field is empty.
    MissingProjectId,
    /// A case id seen earlier in the same source (its files together); the first row is kept.
    DuplicateCaseId,
    /// A household seen earlier in the same project; the first row is kept.
    DuplicateHouseholdId,
    /// `received_at` is empty or matches none of the source's `timestamp_formats`.
    BadReceivedAt,
    /// `closed_at` matches none of the timestamp formats.
    BadClosedAt,
    /// `due_at` matches none of the timestamp formats.
    BadDueAt,
    /// `signed_date` matches none of the source's `date_formats`.
    BadSignedDate,
    /// The case was closed before it was received: the export's clock or columns are wrong.
    /// A field issue (the case is kept without its closing time).
    ClosedBeforeReceived,
    /// The row has more non-empty fields than the header: its columns are shifted.
    BadRow,
    /// A coded value (yes/no, satisfaction, in scope) has an unknown spelling: add it under
    /// the source's `values`. For a case's answers, a field issue (the case is kept).
    BadValue,
    /// A coordinate is not a number, or only one of lon/lat is given.
    BadCoordinate,
    /// lon/lat outside -180..180 / -90..90.
    CoordinateOutOfRange,
    /// lon and lat look swapped.
    SwappedCoordinates,
    /// The point is one of `quality.suspect_points` (exports put missing locations there).
    DefaultCoordinate,
    /// No coordinates and no grid, community or street code.
    NoLocation,
    /// The grid code is not in the grid layer.
    UnknownGridCode,
    /// The community code is not in the grid layer.
    UnknownCommunityCode,
    /// The street code is not in the grid layer.
    UnknownStreetCode,
    /// A district, street or community name matches no unit (the detail lists the closest).
    UnknownName,
    /// A name matches several units (the detail lists them).
    AmbiguousName,
    /// The point lies in no grid's closed area.
    OutsideAllGrids,
    /// The point lies on a boundary shared by several grids and `join.boundary_rule = "reject"`.
    AmbiguousBoundary,
    /// A grid feature without a code.
    GridNoCode,
    /// A grid feature that is not a Polygon or MultiPolygon.
    GridNotPolygon,
    /// A grid feature whose geometry is null, empty or has no area.
    GridEmptyGeometry,
    /// A grid whose geometry is invalid (self-intersecting, unclosed, out of range).
    GridInvalidGeometry,
    /// Several grid features share one code.
    GridDuplicateCode,
    /// A grid without a parent code the layer maps; it is kept and counts in no such unit.
    GridMissingParent,
    /// A grid whose population or households is not a non-negative number; kept, left empty.
    GridBadPopulation,
    /// The whistle id field is empty.
    MissingWhistleId,
    /// A whistle row without the department it summons.
    MissingDepartment,
    /// The same whistle summons the same department twice in a source; the first row is kept.
    DuplicateWhistleSummons,
    /// `whistled_at` is empty or matches none of the source's `timestamp_formats`.
    BadWhistledAt,
    /// The service order id field is empty.
    MissingOrderId,
    /// A service order id seen earlier in the same source; the first row is kept.
    DuplicateOrderId,
    /// `ordered_at` is empty or matches none of the source's `timestamp_formats`.
    BadOrderedAt,
    /// A roster or activity row without its member id.
    MissingMemberId,
    /// A member listed twice on the roster; the first row is kept.
    DuplicateMember,
    /// The same member, day, community and activity type twice; the first row is kept.
    DuplicateActivity,
    /// An activity's date is empty or matches none of the formats.
    BadActivityDate,
    /// A facility row without its id.
    MissingFacilityId,
    /// A facility listed twice; the first row is kept.
    DuplicateFacilityId,
    /// A facility row without its category.
    MissingCategory,
}

impl Reason {
    /// Every reason, in declaration order.
    pub const ALL: [Reason; 45] = [
        Reason::MissingCaseId,
        Reason::MissingHouseholdId,
        Reason::MissingProjectId,
        Reason::DuplicateCaseId,
        Reason::DuplicateHouseholdId,
        Reason::BadReceivedAt,
        Reason::BadClosedAt,
        Reason::BadDueAt,
        Reason::BadSignedDate,
        Reason::ClosedBeforeReceived,
        Reason::BadRow,
        Reason::BadValue,
        Reason::BadCoordinate,
        Reason::CoordinateOutOfRange,
        Reason::SwappedCoordinates,
        Reason::DefaultCoordinate,
        Reason::NoLocation,
        Reason::UnknownGridCode,
        Reason::UnknownCommunityCode,
        Reason::UnknownStreetCode,
        Reason::UnknownName,
        Reason::AmbiguousName,
        Reason::OutsideAllGrids,
        Reason::AmbiguousBoundary,
        Reason::GridNoCode,
        Reason::GridNotPolygon,
        Reason::GridEmptyGeometry,
        Reason::GridInvalidGeometry,
        Reason::GridDuplicateCode,
        Reason::GridMissingParent,
        Reason::GridBadPopulation,
        Reason::MissingWhistleId,
        Reason::MissingDepartment,
        Reason::DuplicateWhistleSummons,
        Reason::BadWhistledAt,
        Reason::MissingOrderId,
        Reason::DuplicateOrderId,
        Reason::BadOrderedAt,
        Reason::MissingMemberId,
        Reason::DuplicateMember,
        Reason::DuplicateActivity,
        Reason::BadActivityDate,
        Reason::MissingFacilityId,
        Reason::DuplicateFacilityId,
        Reason::MissingCategory,
    ];

    /// The code as written in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::MissingCaseId => "missing_case_id",
            Reason::MissingHouseholdId => "missing_household_id",
            Reason::MissingProjectId => "missing_project_id",
            Reason::DuplicateCaseId => "duplicate_case_id",
            Reason::DuplicateHouseholdId => "duplicate_household_id",
            Reason::BadReceivedAt => "bad_received_at",
            Reason::BadClosedAt => "bad_closed_at",
            Reason::BadDueAt => "bad_due_at",
            Reason::BadSignedDate => "bad_signed_date",
            Reason::ClosedBeforeReceived => "closed_before_received",
            Reason::BadRow => "bad_row",
            Reason::BadValue => "bad_value",
            Reason::BadCoordinate => "bad_coordinate",
            Reason::CoordinateOutOfRange => "coordinate_out_of_range",
            Reason::SwappedCoordinates => "swapped_coordinates",
            Reason::DefaultCoordinate => "default_coordinate",
            Reason::NoLocation => "no_location",
            Reason::UnknownGridCode => "unknown_grid_code",
            Reason::UnknownCommunityCode => "unknown_community_code",
            Reason::UnknownStreetCode => "unknown_street_code",
            Reason::UnknownName => "unknown_name",
            Reason::AmbiguousName => "ambiguous_name",
            Reason::OutsideAllGrids => "outside_all_grids",
            Reason::AmbiguousBoundary => "ambiguous_boundary",
            Reason::GridNoCode => "grid_no_code",
            Reason::GridNotPolygon => "grid_not_polygon",
            Reason::GridEmptyGeometry => "grid_empty_geometry",
            Reason::GridInvalidGeometry => "grid_invalid_geometry",
            Reason::GridDuplicateCode => "grid_duplicate_code",
            Reason::GridMissingParent => "grid_missing_parent",
            Reason::GridBadPopulation => "grid_bad_population",
            Reason::MissingWhistleId => "missing_whistle_id",
            Reason::MissingDepartment => "missing_department",
            Reason::DuplicateWhistleSummons => "duplicate_whistle_summons",
            Reason::BadWhistledAt => "bad_whistled_at",
            Reason::MissingOrderId => "missing_order_id",
            Reason::DuplicateOrderId => "duplicate_order_id",
            Reason::BadOrderedAt => "bad_ordered_at",
            Reason::MissingMemberId => "missing_member_id",
            Reason::DuplicateMember => "duplicate_member",
            Reason::DuplicateActivity => "duplicate_activity",
            Reason::BadActivityDate => "bad_activity_date",
            Reason::MissingFacilityId => "missing_facility_id",
            Reason::DuplicateFacilityId => "duplicate_facility_id",
            Reason::MissingCategory => "missing_category",
        }
    }

    /// The reason in Chinese, for readers of the report.
    pub fn zh(self) -> &'static str {
        match self {
            Reason::MissingCaseId => "缺少工单编号",
            Reason::MissingHouseholdId => "缺少户编号",
            Reason::MissingProjectId => "缺少项目编号",
            Reason::DuplicateCaseId => "工单编号重复",
            Reason::DuplicateHouseholdId => "户编号重复",
            Reason::BadReceivedAt => "受理时间无效",
            Reason::BadClosedAt => "结案时间无效",
            Reason::BadDueAt => "办理时限无效",
            Reason::BadSignedDate => "签约日期无效",
            Reason::ClosedBeforeReceived => "结案早于受理",
            Reason::BadRow => "列错位",
            Reason::BadValue => "取值无法识别",
            Reason::BadCoordinate => "坐标无效",
            Reason::CoordinateOutOfRange => "坐标超出范围",
            Reason::SwappedCoordinates => "经纬度颠倒",
            Reason::DefaultCoordinate => "默认坐标",
            Reason::NoLocation => "无位置信息",
            Reason::UnknownGridCode => "网格编码不存在",
            Reason::UnknownCommunityCode => "社区编码不存在",
            Reason::UnknownStreetCode => "街道编码不存在",
            Reason::UnknownName => "地名无法匹配",
            Reason::AmbiguousName => "地名对应多个单元",
            Reason::OutsideAllGrids => "不在任何网格内",
            Reason::AmbiguousBoundary => "位于网格边界",
            Reason::GridNoCode => "网格无编码",
            Reason::GridNotPolygon => "网格非面要素",
            Reason::GridEmptyGeometry => "网格几何为空",
            Reason::GridInvalidGeometry => "网格几何无效",
            Reason::GridDuplicateCode => "网格编码重复",
            Reason::GridMissingParent => "网格缺上级编码",
            Reason::GridBadPopulation => "网格人口无效",
            Reason::MissingWhistleId => "缺少吹哨编号",
            Reason::MissingDepartment => "缺少报到部门",
            Reason::DuplicateWhistleSummons => "同一吹哨重复召集同一部门",
            Reason::BadWhistledAt => "吹哨时间无效",
            Reason::MissingOrderId => "缺少点单编号",
            Reason::DuplicateOrderId => "点单编号重复",
            Reason::BadOrderedAt => "点单时间无效",
            Reason::MissingMemberId => "缺少党员编号",
            Reason::DuplicateMember => "党员重复报到",
            Reason::DuplicateActivity => "服务记录重复",
            Reason::BadActivityDate => "服务日期无效",
            Reason::MissingFacilityId => "缺少设施编号",
            Reason::DuplicateFacilityId => "设施编号重复",
            Reason::MissingCategory => "缺少设施类别",
        }
    }

    /// The reason for readers in `lang`: Chinese, or the code in words.
    pub fn label(self, lang: crate::vocab::lang::Lang) -> String {
        match lang {
            crate::vocab::lang::Lang::Zh => self.zh().to_string(),
            crate::vocab::lang::Lang::En => self.as_str().replace('_', " "),
        }
    }

    /// The reason for a code, if it is one.
    pub fn parse(code: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == code)
    }

    /// Whether the reason can put a row or grid into the quarantine (the two grid reasons that
    /// only describe a kept grid cannot). Quality gates per reason name one of these.
    pub fn quarantines(self) -> bool {
        !matches!(self, Reason::GridMissingParent | Reason::GridBadPopulation)
    }

    /// The codes that can reject a row or grid, in declaration order.
    pub fn quarantine_codes() -> Vec<&'static str> {
        Reason::ALL.into_iter().filter(|r| r.quarantines()).map(Reason::as_str).collect()
    }

    /// "A valid row that could not be placed in a grid", for `quality.max_unassigned_share`.
    pub fn is_unassigned(self) -> bool {
        matches!(
            self,
            Reason::NoLocation
                | Reason::UnknownGridCode
                | Reason::UnknownCommunityCode
                | Reason::UnknownStreetCode
                | Reason::UnknownName
                | Reason::AmbiguousName
                | Reason::OutsideAllGrids
                | Reason::AmbiguousBoundary
        )
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Ord for Reason {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for Reason {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_parse_back() {
        let mut codes: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        for r in Reason::ALL {
            assert_eq!(Reason::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_string(&r).expect("a code"), format!("\"{}\"", r.as_str()));
        }
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), Reason::ALL.len());
    }
}
