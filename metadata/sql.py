"""SQL functions the engine installs in every tenant schema.

Index expressions must be IMMUTABLE, and PostgreSQL's text-to-date and text-to-timestamptz casts
are only STABLE (they read DateStyle and TimeZone). The values these functions accept are fixed
ISO forms with an explicit offset, which parse the same under any setting, so declaring them
IMMUTABLE is true for every input they do not turn into NULL. The filter compiler calls the same
functions, so its conditions and sorts match the indexes built on them.
"""

DATE_FUNCTION = r"""
CREATE OR REPLACE FUNCTION crm_json_date(value jsonb) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN jsonb_typeof(value) = 'string'
      AND (value #>> '{}') ~ '^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$'
      AND substr(value #>> '{}', 9, 2)::int <= extract(day from
          (substr(value #>> '{}', 1, 7) || '-01')::date + interval '1 month' - interval '1 day')
    THEN (value #>> '{}')::date END
$$;
"""

DATETIME_PATTERN = (
    r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[T ]([01][0-9]|2[0-3]):[0-5][0-9]"
    r"(:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-](0[0-9]|1[0-5])(:?[0-5][0-9])?)$"
)

DATETIME_FUNCTION = r"""
CREATE OR REPLACE FUNCTION crm_json_timestamptz(value jsonb) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN jsonb_typeof(value) = 'string'
      AND (value #>> '{}') ~ '%s'
      AND substr(value #>> '{}', 9, 2)::int <= extract(day from
          (substr(value #>> '{}', 1, 7) || '-01')::date + interval '1 month' - interval '1 day')
    THEN (value #>> '{}')::timestamptz END
$$;
""".replace("'%s'", "'" + DATETIME_PATTERN + "'")

DROP_FUNCTIONS = (
    "DROP FUNCTION IF EXISTS crm_json_date(jsonb); DROP FUNCTION IF EXISTS crm_json_timestamptz(jsonb);"
)
