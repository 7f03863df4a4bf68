#!/usr/bin/env bash
# Writes one grid layer in every format and coordinate system gridgov reads, with GDAL's
# ogr2ogr (and geopandas for GeoParquet, which this GDAL cannot write), so the tests read
# files that gridgov did not write. Usage: make-layers.sh SOURCE.geojson OUT_DIR [PYTHON]
#
# OUT_DIR gets, for each of wgs84 (EPSG:4326), gk39 (EPSG:4527, CGCS2000 3-degree
# Gauss-Kruger zone 39) and merc (EPSG:3857, Web Mercator):
#   <crs>.geojson                GeoJSON (a `crs` member for the projected ones)
#   <crs>_utf8.shp               Shapefile, UTF-8 DBF with a .cpg saying so
#   <crs>_gbk.shp                Shapefile, GBK DBF (code page 936) with a .cpg saying CP936
#   <crs>.gpkg, <crs>.fgb        GeoPackage, FlatGeobuf
#   <crs>.parquet                GeoParquet (with PYTHON, a Python that has geopandas)
# and nocpg_gbk.shp: a GBK Shapefile whose .cpg was lost (gridgov must say it reads as GBK).
set -euo pipefail
src="$1"; out="$2"; python="${3:-}"
mkdir -p "$out"
for pair in wgs84:EPSG:4326 gk39:EPSG:4527 merc:EPSG:3857; do
  name="${pair%%:*}"; srs="${pair#*:}"
  ogr2ogr -q -f GeoJSON -t_srs "$srs" -lco RFC7946=NO -lco COORDINATE_PRECISION=10 "$out/$name.geojson" "$src"
  ogr2ogr -q -f "ESRI Shapefile" -t_srs "$srs" -lco ENCODING=UTF-8 "$out/${name}_utf8.shp" "$src"
  ogr2ogr -q -f "ESRI Shapefile" -t_srs "$srs" -lco ENCODING=CP936 "$out/${name}_gbk.shp" "$src"
  ogr2ogr -q -f GPKG -t_srs "$srs" "$out/$name.gpkg" "$src"
  ogr2ogr -q -f FlatGeobuf -t_srs "$srs" "$out/$name.fgb" "$src"
  if [ -n "$python" ]; then
    "$python" - "$src" "$srs" "$out/$name.parquet" <<'PY'
import sys
import geopandas as gpd
src, srs, dst = sys.argv[1:4]
gpd.read_file(src).to_crs(srs).to_parquet(dst)
PY
  fi
done
ogr2ogr -q -f "ESRI Shapefile" -lco ENCODING=CP936 "$out/nocpg_gbk.shp" "$src"
rm -f "$out/nocpg_gbk.cpg"
