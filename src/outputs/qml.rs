//! QGIS style sidecars: `<layer>.qml` beside `<layer>.geojson`, which QGIS applies on open.
//!
//! The renderer is graduated on the layer's `class` property (the same classes as the chart
//! legend; class 0 is the grey no-data class), each range labelled with the class's rate range
//! and count. Each unit is labelled with its name and the mapped value (a share as a
//! percentage, one decimal), over a white halo, only where the label fits inside its polygon.
//! Every field gets its alias from the indicator registry, in the pipeline's language.

use std::fmt::Write as _;
use std::path::Path;

use crate::indicators::registry;
use crate::outputs::classes::Classes;
use crate::vocab::error::OutputError;
use crate::vocab::lang::Lang;

/// Escapes text for an XML attribute.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The style text for a layer with these property keys.
pub fn qml(classes: &Classes, keys: &[&str], lang: Lang) -> String {
    let mut s = String::new();
    s.push_str("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n");
    s.push_str("<qgis version=\"3.28.0\" styleCategories=\"Symbology|Labeling|Fields\" labelsEnabled=\"1\">\n");
    s.push_str("  <renderer-v2 type=\"graduatedSymbol\" attr=\"class\" graduatedMethod=\"GraduatedColor\" symbollevels=\"0\" enableorderby=\"0\" forceraster=\"0\">\n");
    s.push_str("    <ranges>\n");
    // QGIS takes the first range as [lower, upper] and later ones as (lower, upper]: class i
    // is the range (i − 1, i], class 0 is [−1, 0].
    for class in 0..=classes.k() {
        let label = format!("{}  ({})", classes.labels[class], classes.counts[class]);
        let _ = writeln!(
            s,
            "      <range lower=\"{}\" upper=\"{}\" symbol=\"{class}\" label=\"{}\" render=\"true\"/>",
            class as i64 - 1,
            class,
            xml_escape(&label)
        );
    }
    s.push_str("    </ranges>\n    <symbols>\n");
    for class in 0..=classes.k() {
        let [r, g, b] = classes.color(class);
        let _ = write!(
            s,
            "      <symbol type=\"fill\" name=\"{class}\" alpha=\"1\" clip_to_extent=\"1\" force_rhr=\"0\">\n        <layer class=\"SimpleFill\" pass=\"0\" locked=\"0\" enabled=\"1\">\n          <Option type=\"Map\">\n            <Option name=\"color\" value=\"{r},{g},{b},255\" type=\"QString\"/>\n            <Option name=\"outline_color\" value=\"255,255,255,255\" type=\"QString\"/>\n            <Option name=\"outline_width\" value=\"0.1\" type=\"QString\"/>\n            <Option name=\"style\" value=\"solid\" type=\"QString\"/>\n          </Option>\n        </layer>\n      </symbol>\n"
        );
    }
    s.push_str("    </symbols>\n");
    let _ = writeln!(s, "    <classificationMethod id=\"{}\"/>", if classes.method == "fixed" { "Fixed" } else { "Quantile" });
    s.push_str("  </renderer-v2>\n");
    labeling(&mut s, classes, keys);
    s.push_str("  <aliases>\n");
    let mapped = registry::field(&classes.indicator).map(|f| f.label(lang)).unwrap_or_default();
    for (i, k) in keys.iter().enumerate() {
        let name = match (*k, lang) {
            ("class", Lang::Zh) => format!("{mapped}分级"),
            ("class_label", Lang::Zh) => format!("{mapped}分级说明"),
            ("class", Lang::En) => format!("class of {mapped}"),
            ("class_label", Lang::En) => format!("class of {mapped}, range"),
            (k, _) => registry::field(k).map(|f| f.label(lang)).unwrap_or_default(),
        };
        let _ = writeln!(s, "    <alias field=\"{}\" index=\"{i}\" name=\"{}\"/>", xml_escape(k), xml_escape(&name));
    }
    s.push_str("  </aliases>\n</qgis>\n");
    s
}

/// The QGIS expression of a unit's label: its name (the layer's first `*_name` field) and,
/// on a second line, the mapped value (a share × 100 with one decimal and `%`; `—` when
/// empty).
pub fn label_expression(classes: &Classes, keys: &[&str]) -> String {
    let name = keys.iter().find(|k| k.ends_with("_name")).map(|k| format!("\"{k}\"")).unwrap_or_else(|| "''".into());
    let k = &classes.indicator;
    let value = if registry::field(k).is_some_and(|f| f.unit == "share") {
        format!("format_number(\"{k}\" * 100, 1) || '%'")
    } else {
        format!("format_number(\"{k}\", 2)")
    };
    format!("{name} || '\\n' || CASE WHEN \"{k}\" IS NULL THEN '—' ELSE {value} END")
}

fn labeling(s: &mut String, classes: &Classes, keys: &[&str]) {
    let expr = xml_escape(&label_expression(classes, keys));
    s.push_str("  <labeling type=\"simple\">\n    <settings calloutType=\"simple\">\n");
    let _ = writeln!(
        s,
        "      <text-style fieldName=\"{expr}\" isExpression=\"1\" fontFamily=\"Noto Sans CJK SC\" namedStyle=\"Regular\" fontSize=\"8\" fontSizeUnit=\"Point\" textColor=\"40,40,40,255\" textOpacity=\"1\" fontWeight=\"50\" fontItalic=\"0\" multilineHeight=\"1\" blendMode=\"0\" allowHtml=\"0\" capitalization=\"0\" previewBkgrdColor=\"255,255,255,255\">"
    );
    s.push_str("        <text-buffer bufferDraw=\"1\" bufferSize=\"0.7\" bufferSizeUnits=\"MM\" bufferColor=\"255,255,255,255\" bufferOpacity=\"0.8\" bufferNoFill=\"1\" bufferJoinStyle=\"128\" bufferBlendMode=\"0\"/>\n");
    s.push_str("      </text-style>\n");
    s.push_str(
        "      <text-format multilineAlign=\"1\" wrapChar=\"\" autoWrapLength=\"0\" formatNumbers=\"0\" decimals=\"1\" plussign=\"0\"/>\n",
    );
    s.push_str("      <placement placement=\"1\" fitInPolygonOnly=\"1\" centroidInside=\"1\" centroidWhole=\"0\" priority=\"5\" dist=\"0\" distUnits=\"MM\" offsetType=\"0\" quadOffset=\"4\" xOffset=\"0\" yOffset=\"0\" offsetUnits=\"MM\" rotationAngle=\"0\"/>\n");
    s.push_str("      <rendering drawLabels=\"1\" obstacle=\"1\" obstacleType=\"1\" obstacleFactor=\"1\" displayAll=\"0\" upsidedownLabels=\"0\" labelPerPart=\"0\" mergeLines=\"0\" minFeatureSize=\"0\" limitNumLabels=\"0\" maxNumLabels=\"2000\" scaleVisibility=\"0\" fontLimitPixelSize=\"0\" fontMinPixelSize=\"3\" fontMaxPixelSize=\"10000\" zIndex=\"0\"/>\n");
    s.push_str("    </settings>\n  </labeling>\n");
}

/// Writes `<path>` (a `.qml` beside its layer).
pub fn write_qml(path: &Path, classes: &Classes, keys: &[&str], lang: Lang) -> Result<(), OutputError> {
    std::fs::write(path, qml(classes, keys, lang)).map_err(OutputError::io(path))
}
