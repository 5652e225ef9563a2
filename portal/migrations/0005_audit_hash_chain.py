"""The audit trail becomes a hash chain, and PostgreSQL refuses to change it (ADR 7).

1. Four fields: ``seq``, ``content_hash``, ``prev_hash``, ``chain_hash``.
2. The events already recorded are chained in ``at, id`` order, so that
   ``audit_verify`` passes on an upgraded database.
3. On PostgreSQL only, triggers:

   * before insert: an event arrives with its content hash and without a link;
   * at commit, in two deferred steps: the first (after insert) makes an
     update that changes nothing, which queues the second (after update)
     behind every deferred check queued so far, such as the foreign-key checks
     of rows inserted after the event. The second takes the chain's advisory
     lock, reads the last chained event and links this one to it. So the lock
     is taken last and held only for the linking: a transaction never holds
     the chain while it waits for a row lock (ADR 7 has the deadlock this
     avoids);
   * before update or delete: refused, except the linking update those steps
     make (made from inside a trigger, to an unlinked row, changing nothing
     but ``seq``, ``prev_hash`` and ``chain_hash``);
   * before truncate: refused.

The hash formulas come from ``portal.audit_chain``; they are fixed for good.
"""

from django.db import migrations, models

from portal import audit_chain

BATCH = 1000

INSTALL = """
CREATE FUNCTION portal_auditevent_check_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.content_hash !~ '^[0-9a-f]{64}$' THEN
        RAISE EXCEPTION 'audit event without a content hash: record it with portal.audit.record';
    END IF;
    IF NEW.seq IS NOT NULL OR NEW.prev_hash <> '' OR NEW.chain_hash <> '' THEN
        RAISE EXCEPTION 'audit events are linked into the chain by the database at commit:'
            ' insert them without seq, prev_hash or chain_hash';
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION portal_auditevent_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND pg_trigger_depth() > 1
        AND OLD.chain_hash = ''
        AND to_jsonb(NEW) - ARRAY['seq', 'prev_hash', 'chain_hash']
            = to_jsonb(OLD) - ARRAY['seq', 'prev_hash', 'chain_hash']
    THEN
        RETURN NEW;  -- the linking at commit (the functions below)
    END IF;
    RAISE EXCEPTION 'audit events are append-only: % of portal_auditevent refused', TG_OP;
END
$$;

CREATE FUNCTION portal_auditevent_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only: TRUNCATE of portal_auditevent refused';
END
$$;

CREATE FUNCTION portal_auditevent_queue_link() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Changes nothing; queues portal_auditevent_link behind the deferred
    -- checks queued so far, so that the chain lock is taken last.
    UPDATE portal_auditevent SET seq = NULL WHERE id = NEW.id;
    RETURN NULL;
END
$$;

CREATE FUNCTION portal_auditevent_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    last_seq bigint;
    last_hash varchar(64);
BEGIN
    PERFORM pg_advisory_xact_lock(280603412820);  -- the chain's lock: 'AUDIT' in ASCII
    SELECT seq, chain_hash INTO last_seq, last_hash
        FROM portal_auditevent WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1;
    IF last_seq IS NULL THEN
        last_seq := 0;
        last_hash := repeat('0', 64);
    END IF;
    UPDATE portal_auditevent
        SET seq = last_seq + 1,
            prev_hash = last_hash,
            chain_hash = encode(sha256(convert_to(last_hash || content_hash, 'UTF8')), 'hex')
        WHERE id = NEW.id AND chain_hash = '';
    RETURN NULL;
END
$$;

CREATE TRIGGER auditevent_check_insert BEFORE INSERT ON portal_auditevent
    FOR EACH ROW EXECUTE FUNCTION portal_auditevent_check_insert();
CREATE TRIGGER auditevent_refuse_change BEFORE UPDATE OR DELETE ON portal_auditevent
    FOR EACH ROW EXECUTE FUNCTION portal_auditevent_refuse_change();
CREATE TRIGGER auditevent_refuse_truncate BEFORE TRUNCATE ON portal_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION portal_auditevent_refuse_truncate();
CREATE CONSTRAINT TRIGGER auditevent_queue_link AFTER INSERT ON portal_auditevent
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION portal_auditevent_queue_link();
CREATE CONSTRAINT TRIGGER auditevent_link AFTER UPDATE ON portal_auditevent
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.chain_hash = '') EXECUTE FUNCTION portal_auditevent_link();
"""

UNINSTALL = """
DROP TRIGGER IF EXISTS auditevent_link ON portal_auditevent;
DROP TRIGGER IF EXISTS auditevent_queue_link ON portal_auditevent;
DROP TRIGGER IF EXISTS auditevent_refuse_truncate ON portal_auditevent;
DROP TRIGGER IF EXISTS auditevent_refuse_change ON portal_auditevent;
DROP TRIGGER IF EXISTS auditevent_check_insert ON portal_auditevent;
DROP FUNCTION IF EXISTS portal_auditevent_link();
DROP FUNCTION IF EXISTS portal_auditevent_queue_link();
DROP FUNCTION IF EXISTS portal_auditevent_refuse_truncate();
DROP FUNCTION IF EXISTS portal_auditevent_refuse_change();
DROP FUNCTION IF EXISTS portal_auditevent_check_insert();
"""


def chain_existing_events(apps, schema_editor):
    """Chain the events already recorded, oldest first, a batch at a time."""
    AuditEvent = apps.get_model("portal", "AuditEvent")
    events = AuditEvent.objects.using(schema_editor.connection.alias)
    seq, prev = 0, audit_chain.GENESIS
    after = None
    while True:
        batch = events.order_by("at", "id")
        if after is not None:
            batch = batch.filter(models.Q(at__gt=after[0]) | models.Q(at=after[0], id__gt=after[1]))
        rows = list(batch[:BATCH])
        if not rows:
            return
        for row in rows:
            seq += 1
            row.seq = seq
            row.content_hash = audit_chain.content_hash(audit_chain.fields_of(row))
            row.prev_hash = prev
            row.chain_hash = prev = audit_chain.link(prev, row.content_hash)
        events.bulk_update(rows, ["seq", "content_hash", "prev_hash", "chain_hash"])
        after = (rows[-1].at, rows[-1].id)


def install_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INSTALL, params=None)


def uninstall_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNINSTALL, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0004_sealed_audit_events"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(blank=True, editable=False, null=True, unique=True),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="content_hash",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="chain_hash",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(chain_existing_events, migrations.RunPython.noop),
        migrations.RunPython(install_triggers, uninstall_triggers),
    ]
