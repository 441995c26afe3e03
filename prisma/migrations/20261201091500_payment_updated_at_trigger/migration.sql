-- The metrics rollup re-aggregates the days whose payments changed since its last run, found by
-- "updatedAt". Prisma sets it on its own updates; this trigger sets it for raw SQL updates too
-- (reconciliation fixes, scripts), so no change to a payment is missed by the revenue metrics.
CREATE FUNCTION payment_touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW."updatedAt" := greatest(NEW."updatedAt", now() AT TIME ZONE 'UTC');
  RETURN NEW;
END;
$$;

CREATE TRIGGER payment_touch_updated_at
  BEFORE UPDATE ON "Payment"
  FOR EACH ROW EXECUTE FUNCTION payment_touch_updated_at();
