#!/usr/bin/env python3
"""Drives the report's interactive map in a real browser (Debian chromium + chromium-driver,
through Selenium), as a reader would, and checks what it shows against the run's tables.

    python tools/check-map.py RUN_DIR SCREENSHOT.png

1. Opens RUN_DIR/report.html (file://, no network): one path per district of district.csv.
2. Clicks the district with the most streets, at a point that is on it: exactly its streets
   (street.csv, by district_code) appear.
3. Hovers one of those streets: the tooltip names it and shows its mapped rate and n as
   street.csv has them (the mapped indicator is read from the manifest's configuration).
4. Clicks that street: its grids appear; the breadcrumb goes back to the whole city.
5. No console error at any step; a screenshot of the drilled-down map is kept.
Exit 1 with what was seen on the first failure.
"""
import csv
import json
import sys
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.by import By


def fail(msg, driver=None, shot=None):
    if driver is not None and shot:
        driver.save_screenshot(str(shot))
    sys.exit(f"check-map: {msg}")


def table(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def wait_for(driver, css, at_least=1, timeout=15):
    end = time.time() + timeout
    while time.time() < end:
        found = driver.find_elements(By.CSS_SELECTOR, css)
        if len(found) >= at_least:
            return found
        time.sleep(0.1)
    return driver.find_elements(By.CSS_SELECTOR, css)


# A point of the viewport where `el` is the topmost element: the middle of its bounding box is
# often outside a concave polygon, so the box is scanned until the element itself is hit.
FIND_POINT = """
const el = arguments[0], r = el.getBoundingClientRect();
for (let n = 2; n <= 24; n *= 2) {
  for (let i = 1; i < n; i++) for (let j = 1; j < n; j++) {
    const x = r.left + r.width * i / n, y = r.top + r.height * j / n;
    if (document.elementFromPoint(x, y) === el) return [x, y];
  }
}
return null;
"""


def click_or_hover(driver, el, click):
    pt = driver.execute_script(FIND_POINT, el)
    if pt is None:
        return False
    # The pointer moves to that point of the viewport (CSS pixels), then clicks, as a mouse.
    a = ActionBuilder(driver)
    a.pointer_action.move_to_location(int(pt[0]), int(pt[1]))
    if click:
        a.pointer_action.click()
    a.perform()
    return True


def console_errors(driver):
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def main():
    if len(sys.argv) != 3:
        fail("usage: check-map.py RUN_DIR SCREENSHOT.png")
    run, shot = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    indicator = manifest["config"]["charts"]["map_indicator"]
    streets = table(run / "street.csv")
    districts = table(run / "district.csv")
    by_district = {}
    for s in streets:
        by_district.setdefault(s["district_code"], []).append(s)

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1000", "--disable-background-networking"]:
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path="/usr/bin/chromedriver"), options=opts)
    try:
        driver.get((run / "report.html").as_uri())
        paths = wait_for(driver, "path.gg-district", len(districts))
        if len(paths) != len(districts):
            fail(f"{len(paths)} district paths, district.csv has {len(districts)}", driver, shot)
        driver.execute_script("document.getElementById('gg-map').scrollIntoView()")
        time.sleep(0.3)

        # 2. Drill down into the district with the most streets.
        code = max(by_district, key=lambda d: len(by_district[d]))
        want = {s["street_code"] for s in by_district[code]}
        el = driver.find_element(By.CSS_SELECTOR, f'path.gg-district[data-code="{code}"]')
        if not click_or_hover(driver, el, click=True):
            fail(f"district {code}: no visible point to click", driver, shot)
        got_paths = wait_for(driver, "path.gg-street", len(want))
        time.sleep(0.5)  # the zoom animation
        got = {p.get_attribute("data-code") for p in driver.find_elements(By.CSS_SELECTOR, "path.gg-street")}
        if got != want:
            fail(f"district {code}: streets shown {sorted(got)[:5]}… ({len(got)}), street.csv has {len(want)}", driver, shot)
        if driver.find_elements(By.CSS_SELECTOR, "path.gg-district"):
            fail("the districts are still drawn after the drill-down", driver, shot)
        print(f"check-map: clicked district {code}: its {len(got)} streets appear, and only they")

        # 3. Hover a street with a value: the tooltip equals street.csv.
        candidates = sorted((s for s in by_district[code] if s[indicator]), key=lambda s: -float(s["followups"] or 0))
        for s in candidates:
            el = driver.find_element(By.CSS_SELECTOR, f'path.gg-street[data-code="{s["street_code"]}"]')
            if click_or_hover(driver, el, click=False):
                break
        else:
            fail(f"no street of {code} with a {indicator} could be hovered", driver, shot)
        tips = wait_for(driver, ".leaflet-tooltip")
        if not tips:
            fail(f"no tooltip over street {s['street_code']}", driver, shot)
        text = tips[0].text
        value = float(s[indicator])
        shown = f"{value * 100:.1f}%" if indicator.endswith("_rate") else f"{value:.2f}"
        n_key = {"closure_rate": "should_close", "on_time_closure_rate": "should_close", "overdue_open_rate": "open"}.get(indicator, "followups")
        n = s[n_key]
        name = s.get("street_name") or s["street_code"]
        for part in [name, shown, f"n={n}"]:
            if part not in text:
                fail(f"tooltip over {s['street_code']} is {text!r}; expected {part!r} (street.csv: {indicator} {s[indicator]}, {n_key} {n})", driver, shot)
        print(f"check-map: tooltip over {name}: {text!r} matches street.csv ({indicator} {s[indicator]}, n {n})")

        # 4. Click the street: its grids; then the breadcrumb back to the city.
        el = driver.find_element(By.CSS_SELECTOR, f'path.gg-street[data-code="{s["street_code"]}"]')
        click_or_hover(driver, el, click=True)
        grids = wait_for(driver, "path.gg-grid")
        grid_rows = [g for g in table(run / "grid.csv") if g["street_code"] == s["street_code"]]
        if len(grids) != len(grid_rows):
            fail(f"street {s['street_code']}: {len(grids)} grids shown, grid.csv has {len(grid_rows)}", driver, shot)
        time.sleep(0.5)
        driver.save_screenshot(str(shot))
        driver.find_element(By.ID, "gg-crumb-0").click()
        if len(wait_for(driver, "path.gg-district", len(districts))) != len(districts):
            fail("the breadcrumb did not bring back the districts", driver, shot)
        print(f"check-map: street {s['street_code']}: its {len(grids)} grids appear; back to the city by the breadcrumb")

        errors = console_errors(driver)
        if errors:
            fail(f"console errors: {errors}", driver, shot)
        print(f"check-map: no console errors; screenshot {shot}")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
