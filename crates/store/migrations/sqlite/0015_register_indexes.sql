-- The four-colour map reads the register twice per view: the enterprises in the viewport by
-- place (grouped into clusters, or as points), and all of them by territorial unit and colour
-- (the choropleth). Each index holds every column its query reads (the scope rule reads
-- unit_id and department_id), so neither pass touches the wide enterprise rows
-- (docs/benchmarks.md, 2026-12-06).
CREATE INDEX ix_enterprises_place ON enterprises (lon, lat, colour, status, unit_id, department_id);
CREATE INDEX ix_enterprises_unit_colour ON enterprises (unit_id, colour, status, department_id);

-- The ledgers across enterprises read risk points most severe first and major hazard sources
-- highest R first.
CREATE INDEX ix_risk_points_ledger ON risk_points (retired, colour, d_value);
CREATE INDEX ix_hazard_sources_ledger ON hazard_sources (major, retired, r_value);
