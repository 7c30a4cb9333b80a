"""The scheduler that is part of the product (issue 16): the periodic jobs, declared once in
``jobs.py``, and the loop that runs them (``runner.py``) in ``manage.py run_worker`` (beside the
database queue's worker, the embedded default), ``run_scheduler`` (alone), or ``run_scheduler
--once`` from cron or a systemd timer. However many run, each job runs once per period: a
scheduler takes a job by a lease in the database (``ScheduledJob``)."""
