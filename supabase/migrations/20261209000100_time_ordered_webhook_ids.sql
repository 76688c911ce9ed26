-- Retention that costs the same whatever the history holds (issue 21). `npm run bench:scale` found
-- prune_webhook_history not flat: a batch of 1,000 attempts, deliveries and events took 1.9-3.2x the small
-- database's at a production's size, every plan an index scan. What grew was the pages each batch touched outside
-- shared buffers, and they were nearly all uuid-keyed index pages: deliveries and events had random (v4) ids, so
-- the 1,000 oldest rows' entries lay scattered over webhook_deliveries_pkey, webhook_events_pkey,
-- webhook_deliveries_event_idx and webhook_attempts_delivery_idx, one leaf page a row in each. Some of those
-- lookups were the batch's own (deleting by primary key, checking each old attempt's delivery), but two kinds no
-- rewrite can avoid: each deleted delivery's ON DELETE CASCADE looks up its attempts by delivery_id, and each
-- deleted event's looks up its deliveries by event_id (the first read about 940 pages a batch on the production-size
-- database; the second's pages had just been read, about 610, by the check that an event has no delivery left).
--
-- 1. New deliveries and events get time-ordered ids (UUID version 7, RFC 9562: 48 bits of Unix milliseconds, then
--    74 random bits), so the rows retention takes together, the oldest, sit together in every index keyed by
--    those ids, and the rows the dispatcher works on, the newest, sit together at their right edge. Ids of rows
--    written before this migration stay as they are and age out within one retention period; until then a batch
--    costs what it did. The ids stay unguessable (74 random bits) and every read stays scoped to its workspace;
--    what a version 7 id tells, when the row was written, the delivery's payload says anyway (occurred_at).
--    Postgres 18 has uuidv7(); this is the same layout for the versions Supabase runs.
-- 2. prune_webhook_history deletes by row address (as prune_idempotency_keys does since 20261207000700) rather than
--    by primary key, and finds the attempts to delete through the batch's deliveries: one lookup a delivery
--    instead of one an attempt (a delivery has up to its retry schedule's attempts), made on the pages that
--    delivery's cascade reads next. Same rows pruned, in the same bounded batches, never a pending delivery's: an
--    attempt is only ever younger than its delivery, so "attempts past retention of deliveries that are not
--    pending" are the attempts past retention of the deliveries the next statement deletes. A row updated between
--    the batch's choice and its delete (a failed delivery retried by hand, so pending again) is skipped: the
--    recheck finds its new version at another address.

create function public.uuid_v7(p_at timestamptz default clock_timestamp())
returns uuid
language sql volatile parallel safe
set search_path = ''
as $$
  -- A version 4 uuid (random, variant 10) whose first 48 bits become the milliseconds since the epoch and whose
  -- version nibble becomes 7 (bits 4 and 5 of byte 6 added to 4's 0100).
  select pg_catalog.encode(
           pg_catalog.set_bit(pg_catalog.set_bit(
             overlay(pg_catalog.uuid_send(pg_catalog.gen_random_uuid())
                     placing substring(pg_catalog.int8send(pg_catalog.floor(extract(epoch from p_at) * 1000)::bigint)
                                       from 3)
                     from 1 for 6),
             52, 1), 53, 1),
           'hex')::uuid
$$;
revoke execute on function public.uuid_v7(timestamptz) from public, anon, authenticated;
grant execute on function public.uuid_v7(timestamptz) to service_role;

alter table public.webhook_events alter column id set default public.uuid_v7();
alter table public.webhook_deliveries alter column id set default public.uuid_v7();

create or replace function public.prune_webhook_history(p_keep_days integer, p_batch integer, p_rounds integer)
returns json
language plpgsql volatile
set search_path = ''
as $$
declare
  cutoff timestamptz := now() - make_interval(days => p_keep_days);
  n_attempts bigint := 0;
  n_deliveries bigint := 0;
  n_events bigint := 0;
  deleted bigint;
  progress bigint;
begin
  for round in 1..p_rounds loop
    progress := 0;
    -- The batch's deliveries as an array, so that their attempts are looked up by delivery_id whatever the
    -- planner guesses: the function's statements are planned without the cutoff's value after a few calls, and
    -- as a join this one then read every attempt (measured: 0.5-0.8 s a batch on 5 M attempts).
    delete from public.webhook_attempts
     where ctid = any (array(select a.ctid
                               from public.webhook_attempts a
                              where a.delivery_id = any (array(select d.id
                                                                  from public.webhook_deliveries d
                                                                 where d.created_at < cutoff and d.status <> 'pending'
                                                                 order by d.created_at
                                                                 limit p_batch))
                                and a.created_at < cutoff
                              limit p_batch));
    get diagnostics deleted = row_count;
    n_attempts := n_attempts + deleted;
    progress := progress + deleted;

    delete from public.webhook_deliveries
     where ctid = any (array(select d.ctid
                               from public.webhook_deliveries d
                              where d.created_at < cutoff and d.status <> 'pending'
                              order by d.created_at
                              limit p_batch));
    get diagnostics deleted = row_count;
    n_deliveries := n_deliveries + deleted;
    progress := progress + deleted;

    delete from public.webhook_events
     where ctid = any (array(select ev.ctid
                               from public.webhook_events ev
                              where ev.occurred_at < cutoff
                                and not exists (select 1 from public.webhook_deliveries d where d.event_id = ev.id)
                              order by ev.occurred_at
                              limit p_batch));
    get diagnostics deleted = row_count;
    n_events := n_events + deleted;
    progress := progress + deleted;
    exit when progress = 0;
  end loop;
  return json_build_object('attempts', n_attempts, 'deliveries', n_deliveries, 'events', n_events);
end;
$$;
revoke execute on function public.prune_webhook_history(integer, integer, integer) from public, anon, authenticated;
grant execute on function public.prune_webhook_history(integer, integer, integer) to service_role;
