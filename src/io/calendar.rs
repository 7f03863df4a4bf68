//! The working calendar: the holiday file (`date,kind[,…]`, kind `holiday` or `workday`) read
//! into the days off and the weekend days worked in exchange.

use chrono::NaiveDate;

use crate::config::Pipeline;
use crate::vocab::calendar::{Calendar, CalendarSpec};
use crate::vocab::error::ReadError;

/// The pipeline's calendar: natural time without `[calendar]`.
pub fn read_calendar(p: &Pipeline) -> Result<Calendar, ReadError> {
    let c = &p.calendar;
    if c.always {
        return Ok(Calendar::always(p.period.rules));
    }
    let mut spec = CalendarSpec { weekend: c.weekend, hours: c.hours.clone(), ..Default::default() };
    if let Some(path) = &c.holidays {
        let text = std::fs::read_to_string(path).map_err(ReadError::io(path))?;
        let bad = |line: usize, message: String| ReadError::Table {
            path: path.clone(),
            format: "CSV",
            message: format!("line {line}: {message}"),
        };
        let mut lines = text.lines().enumerate();
        let header: Vec<&str> =
            lines.next().map(|(_, h)| h.trim_start_matches('\u{feff}').split(',').map(str::trim).collect()).unwrap_or_default();
        let (Some(di), Some(ki)) = (header.iter().position(|h| *h == "date"), header.iter().position(|h| *h == "kind")) else {
            return Err(bad(1, format!("the header must name `date` and `kind`; it is {:?}", header.join(","))));
        };
        for (i, line) in lines {
            if line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            let (Some(d), Some(k)) = (fields.get(di), fields.get(ki)) else {
                return Err(bad(i + 1, "fewer fields than the header".into()));
            };
            let day = NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| bad(i + 1, format!("{d:?} is not a date YYYY-MM-DD")))?;
            match *k {
                "holiday" => spec.holidays.insert(day),
                "workday" => spec.workdays.insert(day),
                other => return Err(bad(i + 1, format!("kind {other:?} is neither `holiday` nor `workday`"))),
            };
        }
    }
    Ok(Calendar::new(&spec, p.period.rules))
}
