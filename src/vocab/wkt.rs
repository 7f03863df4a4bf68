//! A layer's own declaration of its coordinate system, as WKT (a Shapefile's `.prj`, a
//! GeoPackage's SRS definition, a FlatGeobuf header), turned into a `Crs`.
//!
//! An EPSG code at the top level (`AUTHORITY["EPSG","4527"]`, WKT2's `ID["EPSG",4527]`)
//! decides. Without one, as in the ESRI WKT that ArcGIS, SuperMap and GDAL write into `.prj`
//! files, the projection and its parameters become a PROJ string: Transverse Mercator and
//! Gauss–Krüger, Mercator (Web Mercator's auxiliary sphere included), Lambert conformal conic
//! and Albers, on the WKT's own ellipsoid (and `TOWGS84` shift, if given).

use super::crs::Crs;

/// A WKT node: `KEYWORD[arg, arg, ...]`.
#[derive(Debug, Clone, PartialEq)]
enum Arg {
    Text(String),
    Number(f64),
    Word(String),
    Node(Node),
}

#[derive(Debug, Clone, PartialEq)]
struct Node {
    keyword: String,
    args: Vec<Arg>,
}

impl Node {
    fn child(&self, keywords: &[&str]) -> Option<&Node> {
        self.args.iter().find_map(|a| match a {
            Arg::Node(n) if keywords.iter().any(|k| n.keyword.eq_ignore_ascii_case(k)) => Some(n),
            _ => None,
        })
    }

    fn children<'a>(&'a self, keywords: &'a [&'a str]) -> impl Iterator<Item = &'a Node> + 'a {
        self.args.iter().filter_map(move |a| match a {
            Arg::Node(n) if keywords.iter().any(|k| n.keyword.eq_ignore_ascii_case(k)) => Some(n),
            _ => None,
        })
    }

    fn text(&self, i: usize) -> Option<&str> {
        match self.args.get(i)? {
            Arg::Text(s) | Arg::Word(s) => Some(s),
            _ => None,
        }
    }

    fn number(&self, i: usize) -> Option<f64> {
        match self.args.get(i)? {
            Arg::Number(v) => Some(*v),
            Arg::Text(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// Searches this node and its descendants, depth first.
    fn find(&self, keywords: &[&str]) -> Option<&Node> {
        if keywords.iter().any(|k| self.keyword.eq_ignore_ascii_case(k)) {
            return Some(self);
        }
        self.args.iter().find_map(|a| match a {
            Arg::Node(n) => n.find(keywords),
            _ => None,
        })
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn node(&mut self, depth: usize) -> Result<Node, String> {
        if depth > 64 {
            return Err("nested too deeply".into());
        }
        self.skip_ws();
        let start = self.i;
        while self.i < self.s.len() && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_') {
            self.i += 1;
        }
        let keyword = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
        if keyword.is_empty() {
            return Err(format!("expected a keyword at byte {}", self.i));
        }
        self.skip_ws();
        let close = match self.s.get(self.i) {
            Some(b'[') => b']',
            Some(b'(') => b')',
            _ => return Ok(Node { keyword, args: Vec::new() }),
        };
        self.i += 1;
        let mut args = Vec::new();
        loop {
            self.skip_ws();
            match self.s.get(self.i) {
                None => return Err("unexpected end".into()),
                Some(&c) if c == close => {
                    self.i += 1;
                    return Ok(Node { keyword, args });
                }
                Some(b',') => self.i += 1,
                Some(b'"') => {
                    self.i += 1;
                    let mut text = Vec::new();
                    loop {
                        match self.s.get(self.i) {
                            None => return Err("unterminated string".into()),
                            // WKT escapes a quote by doubling it.
                            Some(b'"') if self.s.get(self.i + 1) == Some(&b'"') => {
                                text.push(b'"');
                                self.i += 2;
                            }
                            Some(b'"') => {
                                self.i += 1;
                                break;
                            }
                            Some(&c) => {
                                text.push(c);
                                self.i += 1;
                            }
                        }
                    }
                    args.push(Arg::Text(String::from_utf8_lossy(&text).into_owned()));
                }
                Some(c) if c.is_ascii_digit() || *c == b'-' || *c == b'+' || *c == b'.' => {
                    let start = self.i;
                    while self.i < self.s.len() && (self.s[self.i].is_ascii_digit() || b"+-.eE".contains(&self.s[self.i])) {
                        self.i += 1;
                    }
                    let t = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
                    args.push(Arg::Number(t.parse().map_err(|_| format!("{t:?} is not a number"))?));
                }
                Some(_) => {
                    let n = self.node(depth + 1)?;
                    args.push(if n.args.is_empty() { Arg::Word(n.keyword) } else { Arg::Node(n) });
                }
            }
        }
    }
}

fn parse(text: &str) -> Result<Node, String> {
    let mut p = Parser { s: text.trim_start_matches('\u{feff}').as_bytes(), i: 0 };
    p.node(0)
}

/// The coordinate system a WKT text describes.
pub fn crs_from_wkt(text: &str) -> Result<Crs, String> {
    let root = parse(text).map_err(|e| format!("the WKT cannot be read ({e})"))?;
    // A bound CRS (WKT2) wraps the real one.
    let root = match root.keyword.to_ascii_uppercase().as_str() {
        "BOUNDCRS" => root
            .child(&["SOURCECRS"])
            .and_then(|s| s.args.iter().find_map(|a| if let Arg::Node(n) = a { Some(n.clone()) } else { None }))
            .unwrap_or(root),
        "COMPD_CS" | "COMPOUNDCRS" => {
            root.args.iter().find_map(|a| if let Arg::Node(n) = a { Some(n.clone()) } else { None }).unwrap_or(root)
        }
        _ => root,
    };
    if let Some(code) = epsg_of(&root) {
        if let Ok(c) = Crs::from_epsg(code) {
            return Ok(c);
        }
    }
    let kw = root.keyword.to_ascii_uppercase();
    let name = root.text(0).unwrap_or_default().to_string();
    let geog =
        if kw.starts_with("GEOG") { Some(&root) } else { root.find(&["GEOGCS", "GEOGCRS", "BASEGEOGCRS", "BASEGEODCRS", "GEODCRS"]) };
    let datum = geog.and_then(|g| g.find(&["DATUM"])).and_then(|d| d.text(0)).unwrap_or_default().to_ascii_lowercase();
    let ellps = geog.and_then(|g| g.find(&["SPHEROID", "ELLIPSOID"]));
    let is_wgs84 =
        datum.contains("wgs_1984") || datum.contains("wgs 1984") || datum == "wgs84" || datum.contains("world geodetic system 1984");
    let is_cgcs = datum.contains("china_2000")
        || datum.contains("china 2000")
        || datum.contains("cgcs2000")
        || datum.contains("china_geodetic_coordinate_system_2000");
    let mut earth = if is_wgs84 {
        "+datum=WGS84".to_string()
    } else {
        match ellps.and_then(|e| Some((e.number(1)?, e.number(2)?))) {
            Some((a, rf)) if rf > 0.0 => format!("+a={a} +rf={rf}"),
            Some((a, _)) => format!("+a={a} +b={a}"),
            None => "+datum=WGS84".into(),
        }
    };
    if let Some(t) = geog.and_then(|g| g.find(&["TOWGS84"])) {
        let v: Vec<String> = (0..t.args.len()).filter_map(|i| t.number(i)).map(|x| x.to_string()).collect();
        if v.len() == 3 || v.len() == 7 {
            earth.push_str(&format!(" +towgs84={}", v.join(",")));
        }
    }
    if kw.starts_with("GEOG") || kw == "GEODCRS" {
        return Ok(if is_wgs84 {
            Crs::Wgs84
        } else if is_cgcs {
            Crs::Cgcs2000
        } else {
            Crs::proj(&name, &format!("+proj=longlat {earth} +no_defs"))?
        });
    }
    let method_name =
        root.find(&["PROJECTION", "METHOD"]).and_then(|m| m.text(0)).ok_or_else(|| format!("the WKT {name:?} names no projection"))?;
    let method = method_name.to_ascii_lowercase().replace([' ', '-'], "_");
    let mut params: Vec<(String, f64)> = Vec::new();
    let conv = root.find(&["CONVERSION"]).unwrap_or(&root);
    for p in conv.children(&["PARAMETER", "PARAMETERFILE"]) {
        if let (Some(k), Some(v)) = (p.text(0), p.number(1)) {
            params.push((k.to_ascii_lowercase().replace([' ', '-'], "_"), v));
        }
    }
    let param = |names: &[&str]| params.iter().find(|(k, _)| names.contains(&k.as_str())).map(|(_, v)| *v);
    let x0 = param(&["false_easting", "easting_at_false_origin"]).unwrap_or(0.0);
    let y0 = param(&["false_northing", "northing_at_false_origin"]).unwrap_or(0.0);
    let lon0 = param(&[
        "central_meridian",
        "longitude_of_center",
        "longitude_of_origin",
        "longitude_of_natural_origin",
        "longitude_of_false_origin",
    ])
    .unwrap_or(0.0);
    let lat0 =
        param(&["latitude_of_origin", "latitude_of_center", "latitude_of_natural_origin", "latitude_of_false_origin"]).unwrap_or(0.0);
    let k = param(&["scale_factor", "scale_factor_at_natural_origin"]).unwrap_or(1.0);
    let lat1 = param(&["standard_parallel_1", "latitude_of_1st_standard_parallel"]);
    let lat2 = param(&["standard_parallel_2", "latitude_of_2nd_standard_parallel"]);
    // A projected system's linear unit (US feet, say); metres unless it says otherwise.
    let to_meter = root
        .children(&["UNIT", "LENGTHUNIT"])
        .last()
        .and_then(|u| u.number(1))
        .filter(|f| (*f - 1.0).abs() > 1e-12)
        .map(|f| format!(" +to_meter={f}"))
        .unwrap_or_default();
    let definition = match method.as_str() {
        "transverse_mercator" | "gauss_kruger" | "gauss_krueger" => {
            format!("+proj=tmerc +lat_0={lat0} +lon_0={lon0} +k={k} +x_0={x0} +y_0={y0} {earth}{to_meter} +units=m +no_defs")
        }
        "mercator_auxiliary_sphere" | "popular_visualisation_pseudo_mercator" => return Crs::from_epsg(3857),
        "mercator" | "mercator_1sp" | "mercator_2sp" | "mercator_variant_a" | "mercator_variant_b" => match lat1 {
            Some(ts) => format!("+proj=merc +lat_ts={ts} +lon_0={lon0} +x_0={x0} +y_0={y0} {earth}{to_meter} +units=m +no_defs"),
            None => format!("+proj=merc +lon_0={lon0} +k={k} +x_0={x0} +y_0={y0} {earth}{to_meter} +units=m +no_defs"),
        },
        "lambert_conformal_conic" | "lambert_conformal_conic_2sp" | "lambert_conic_conformal_(2sp)" => {
            let (l1, l2) = (lat1.unwrap_or(lat0), lat2.unwrap_or(lat1.unwrap_or(lat0)));
            format!("+proj=lcc +lat_1={l1} +lat_2={l2} +lat_0={lat0} +lon_0={lon0} +x_0={x0} +y_0={y0} {earth}{to_meter} +units=m +no_defs")
        }
        "albers" | "albers_conic_equal_area" | "albers_equal_area" => {
            let (l1, l2) = (lat1.unwrap_or(lat0), lat2.unwrap_or(lat1.unwrap_or(lat0)));
            format!("+proj=aea +lat_1={l1} +lat_2={l2} +lat_0={lat0} +lon_0={lon0} +x_0={x0} +y_0={y0} {earth}{to_meter} +units=m +no_defs")
        }
        _ => {
            return Err(format!(
                "the WKT {name:?} uses the projection {method_name:?}, which gridgov does not read from WKT; give grids.crs as an EPSG code or a PROJ string"
            ));
        }
    };
    let shown = if name.is_empty() { definition.clone() } else { name };
    Crs::proj(&shown, &definition)
}

/// The EPSG code a WKT's top level names (`AUTHORITY["EPSG","4527"]` or `ID["EPSG",4527]`).
fn epsg_of(root: &Node) -> Option<u32> {
    let id = root.children(&["AUTHORITY", "ID"]).last()?;
    if !id.text(0)?.eq_ignore_ascii_case("EPSG") {
        return None;
    }
    match id.args.get(1)? {
        Arg::Number(v) => Some(*v as u32),
        Arg::Text(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: (f64, f64), b: (f64, f64), tol: f64) -> bool {
        (a.0 - b.0).abs() < tol && (a.1 - b.1).abs() < tol
    }

    /// What ArcGIS and GDAL write into a `.prj` for CGCS2000 / 3-degree GK zone 39 (no EPSG
    /// code): read through its parameters, it converts like EPSG:4527.
    #[test]
    fn esri_gauss_kruger_reads_like_its_epsg_code() {
        let prj = r#"PROJCS["CGCS2000_3_Degree_GK_Zone_39",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",39500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",117.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
        let c = crs_from_wkt(prj).expect("a GK zone");
        let e = Crs::from_epsg(4527).expect("EPSG:4527");
        let (x, y) = e.from_wgs84(116.397, 39.909);
        assert!((x - 39_449_000.0).abs() < 2_000.0, "{x}");
        assert!(close(c.to_wgs84(x, y), (116.397, 39.909), 1e-9), "{:?}", c.to_wgs84(x, y));
        assert_eq!(c.as_str(), "CGCS2000_3_Degree_GK_Zone_39");
    }

    #[test]
    fn an_authority_code_decides() {
        let wkt = r#"PROJCS["WGS 84 / Pseudo-Mercator",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]]],PROJECTION["Mercator_1SP"],PARAMETER["central_meridian",0],UNIT["metre",1],AUTHORITY["EPSG","3857"]]"#;
        assert_eq!(crs_from_wkt(wkt).expect("3857").as_str(), "EPSG:3857");
        let wkt2 = r#"PROJCRS["WGS 84 / UTM zone 50N",BASEGEOGCRS["WGS 84",DATUM["World Geodetic System 1984",ELLIPSOID["WGS 84",6378137,298.257223563]]],CONVERSION["UTM zone 50N",METHOD["Transverse Mercator"]],ID["EPSG",32650]]"#;
        assert_eq!(crs_from_wkt(wkt2).expect("32650").as_str(), "EPSG:32650");
        let geog = r#"GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;
        assert_eq!(crs_from_wkt(geog).expect("wgs84"), Crs::Wgs84);
        let cgcs = r#"GEOGCS["China Geodetic Coordinate System 2000",DATUM["China_2000",SPHEROID["CGCS2000",6378137,298.257222101]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]"#;
        assert_eq!(crs_from_wkt(cgcs).expect("cgcs2000"), Crs::Cgcs2000);
    }

    #[test]
    fn esri_web_mercator_and_utm() {
        let merc = r#"PROJCS["WGS_1984_Web_Mercator_Auxiliary_Sphere",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Mercator_Auxiliary_Sphere"],PARAMETER["False_Easting",0.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",0.0],PARAMETER["Standard_Parallel_1",0.0],PARAMETER["Auxiliary_Sphere_Type",0.0],UNIT["Meter",1.0]]"#;
        let c = crs_from_wkt(merc).expect("web mercator");
        // pyproj (PROJ 9.5): EPSG:3857 (12,957,000, 4,852,000) = (116.39471136336638, 39.903988890897).
        assert!(
            close(c.to_wgs84(12_957_000.0, 4_852_000.0), (116.394_711_363_366_38, 39.903_988_890_897), 1e-9),
            "{:?}",
            c.to_wgs84(12_957_000.0, 4_852_000.0)
        );
        let utm = r#"PROJCS["WGS_1984_UTM_Zone_50N",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",117.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
        let u = crs_from_wkt(utm).expect("utm");
        let e = Crs::from_epsg(32650).expect("32650");
        let p = e.from_wgs84(116.5, 40.1);
        assert!(close(u.to_wgs84(p.0, p.1), (116.5, 40.1), 1e-9));
    }

    #[test]
    fn unreadable_wkt_is_an_error_not_a_panic() {
        for bad in [
            "",
            "PROJCS[",
            "PROJCS[\"x\",PROJECTION[\"Robinson\"]]",
            "GEOGCS[\"a\",DATUM[\"b\",SPHEROID[\"c\",1e999999,0]]]",
            "[[[[",
            "\"\"",
        ] {
            let _ = crs_from_wkt(bad);
        }
        assert!(crs_from_wkt("PROJCS[\"x\",PROJECTION[\"Robinson\"]]").unwrap_err().contains("Robinson"));
    }
}
