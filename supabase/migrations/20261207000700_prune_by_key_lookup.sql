-- Retention in bounded batches, as 20261130001010 and 20261201000200 meant it: each DELETE picked its batch with
-- `where id in (select ... limit p_batch)`, which the planner may run as a hash semi-join over the whole table.
-- On a production-sized history (5 M attempts, `npm run bench:scale`) it did: a batch of 1,000 attempts read the
-- table in full and took about half a second, fifteen times the small database's. `= any (array(...))` makes
-- each batch a lookup of its keys (by primary key, or for idempotency keys, whose key has two columns, by row
-- address), so a batch costs the same whatever the table holds.

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
    delete from public.webhook_attempts
     where id = any (array(select a.id
                           from public.webhook_attempts a
                           join public.webhook_deliveries d on d.id = a.delivery_id
                          where a.created_at < cutoff and d.status <> 'pending'
                          order by a.created_at
                          limit p_batch));
    get diagnostics deleted = row_count;
    n_attempts := n_attempts + deleted;
    progress := progress + deleted;

    delete from public.webhook_deliveries
     where id = any (array(select d.id
                           from public.webhook_deliveries d
                          where d.created_at < cutoff and d.status <> 'pending'
                          order by d.created_at
                          limit p_batch));
    get diagnostics deleted = row_count;
    n_deliveries := n_deliveries + deleted;
    progress := progress + deleted;

    delete from public.webhook_events
     where id = any (array(select ev.id
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

create or replace function public.prune_idempotency_keys(p_batch integer, p_rounds integer)
returns json
language plpgsql volatile
set search_path = ''
as $$
declare
  cutoff timestamptz := now() - public.idempotency_window();
  total bigint := 0;
  deleted bigint;
begin
  for round in 1..p_rounds loop
    delete from public.idempotency_keys
     where ctid = any (array(select i.ctid
                                from public.idempotency_keys i
                               where i.created_at <= cutoff
                               order by i.created_at
                               limit p_batch));
    get diagnostics deleted = row_count;
    total := total + deleted;
    exit when deleted < p_batch;
  end loop;
  return json_build_object('idempotency_keys', total);
end;
$$;
