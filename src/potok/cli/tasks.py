"""``potok tasks``: operators' work - queues, tasks, claiming, the timers and the figures."""

from __future__ import annotations

import typer

from potok.cli.common import (
    MAX_ID,
    OUTPUT,
    Column,
    Output,
    cli_actor,
    cli_uow,
    console,
    handles_errors,
    open_potok,
    print_listing,
)
from potok.domain.tasks import Policy, TaskState

app = typer.Typer(
    help="Operators' work: task queues, tasks, claiming, escalation, figures.",
    no_args_is_help=True,
)

USER = typer.Option(..., "--as", metavar="USER", help="The operator (a user's name).")

TASK_COLUMNS = [
    Column("id", right=True),
    Column("queue"),
    Column("order_id", "order", right=True),
    Column("title"),
    Column("state"),
    Column("assignee"),
    Column("due_at", "due"),
    Column("escalated_to", "escalated to"),
    Column("skills", "needs"),
]


@app.command("queue")
@handles_errors
def put_queue(
    code: str = typer.Argument(..., help="The queue's code, e.g. fraud."),
    name: str = typer.Option(..., "--name", help="What the queue is for."),
    policy: Policy = typer.Option(Policy.ROUND_ROBIN, "--policy", help="How tasks are given out."),
    members: str = typer.Option("", "--members", help="Users, comma-separated, in turn order."),
    sla_minutes: int = typer.Option(
        60, "--sla-minutes", min=1, max=43_200, help="How long a task may wait."
    ),
    supervisor: str | None = typer.Option(None, "--supervisor", help="Told of late tasks."),
    skills: str = typer.Option(
        "", "--skills", help="Skills every task needs, comma-separated (given by them)."
    ),
    by_channel: bool = typer.Option(
        False, "--by-channel", help="A task about an order needs channel:<its channel> too."
    ),
) -> None:
    """Set up a task queue, or change one."""
    from potok.domain.tasks import QueueDraft
    from potok.services import tasks

    people = tuple(m.strip() for m in members.split(",") if m.strip())
    needs = tuple(s.strip() for s in skills.split(",") if s.strip())
    draft = QueueDraft(code, name, policy, people, sla_minutes, supervisor, needs, by_channel)
    potok = open_potok()
    try:
        queue = tasks.put_queue(cli_uow(potok), draft)
    finally:
        potok.close()
    asks = f", needs {', '.join(queue.skills)}" if queue.skills else ""
    asks += ", by channel" if queue.by_channel else ""
    console.print(
        f"queue {queue.code}: {queue.policy.value}, {len(queue.members)} members, "
        f"{queue.sla_minutes} min{asks}"
    )


@app.command("queues")
@handles_errors
def list_queues(output: Output = OUTPUT) -> None:
    """Every task queue."""
    from potok.services import tasks

    potok = open_potok()
    try:
        found = tasks.list_queues(cli_uow(potok))
    finally:
        potok.close()
    rows = [
        {
            "code": q.code,
            "name": q.name,
            "policy": q.policy,
            "members": ", ".join(q.members),
            "sla_minutes": q.sla_minutes,
            "supervisor": q.supervisor,
            "skills": ", ".join(q.skills) + (" +channel" if q.by_channel else ""),
        }
        for q in found
    ]
    columns = [
        Column("code"),
        Column("name"),
        Column("policy"),
        Column("members"),
        Column("sla_minutes", "SLA min", right=True),
        Column("supervisor"),
        Column("skills", "needs"),
    ]
    print_listing(rows, columns, output, empty="no task queues yet")


@app.command("add")
@handles_errors
def add_task(
    queue: str = typer.Option(..., "--queue", help="The queue's code."),
    title: str = typer.Option(..., "--title", help="What is to be done."),
    order_id: int | None = typer.Option(None, "--order", min=1, max=MAX_ID, metavar="ID"),
    operator: str | None = typer.Option(None, "--to", help="Give it to this user."),
    skills: str = typer.Option(
        "", "--skills", help="Skills whoever takes it must have, comma-separated."
    ),
) -> None:
    """Put a task in a queue (given out by its policy unless --to names someone)."""
    from potok.services import tasks

    needs = tuple(s.strip() for s in skills.split(",") if s.strip())
    potok = open_potok()
    try:
        task = tasks.create_task(
            cli_uow(potok), queue, order_id, title, cli_actor(), operator=operator, skills=needs
        )
    finally:
        potok.close()
    whom = task.assignee or (
        f"whoever has {', '.join(task.skills)} and claims it (no member has them)"
        if task.skills
        else "whoever claims it"
    )
    console.print(f"task {task.id} in {task.queue} for {whom}")


@app.command("list")
@handles_errors
def list_tasks(
    queue: str | None = typer.Option(None, "--queue", help="Only this queue's."),
    state: TaskState | None = typer.Option(None, "--state", help="Only tasks in this state."),
    mine: str | None = typer.Option(None, "--mine", metavar="USER", help="A user's own tasks."),
    limit: int = typer.Option(100, min=1, max=500, help="At most this many."),
    output: Output = OUTPUT,
) -> None:
    """Tasks, soonest due first."""
    from potok.services import tasks

    potok = open_potok()
    try:
        found = tasks.list_tasks(cli_uow(potok), queue=queue, state=state, user=mine, limit=limit)
    finally:
        potok.close()
    rows = [
        {
            "id": t.id,
            "queue": t.queue,
            "order_id": t.order_id,
            "title": t.title,
            "state": t.state,
            "assignee": t.assignee,
            "due_at": t.due_at,
            "escalated_to": t.escalated_to,
            "skills": ", ".join(t.skills),
        }
        for t in found
    ]
    print_listing(rows, TASK_COLUMNS, output, empty="no tasks")


@app.command("claim")
@handles_errors
def claim(
    task_id: int | None = typer.Argument(None, min=1, max=MAX_ID, help="The task's number."),
    queue: str | None = typer.Option(None, "--next", metavar="QUEUE", help="Take the next one."),
    user: str = USER,
) -> None:
    """Take a task (by number, or the next of a queue)."""
    from potok.domain.errors import FieldError, InvalidInput
    from potok.services import tasks

    if (task_id is None) == (queue is None):
        raise InvalidInput([FieldError("task", "give a task's number or --next QUEUE", "required")])
    potok = open_potok()
    try:
        if task_id is not None:
            task = tasks.claim_task(cli_uow(potok), task_id, user)
        else:
            assert queue is not None
            task = tasks.claim_next(cli_uow(potok), queue, user)
    finally:
        potok.close()
    console.print(f"task {task.id} ({task.title}) is {user}'s, due {task.due_at:%Y-%m-%d %H:%M}")


@app.command("release")
@handles_errors
def release(
    task_id: int = typer.Argument(..., min=1, max=MAX_ID, help="The task's number."),
    user: str = USER,
) -> None:
    """Put a claimed task back in its queue."""
    from potok.services import tasks

    potok = open_potok()
    try:
        task = tasks.release_task(cli_uow(potok), task_id, user)
    finally:
        potok.close()
    console.print(f"task {task.id} is back in {task.queue}")


@app.command("done")
@handles_errors
def done(
    task_id: int = typer.Argument(..., min=1, max=MAX_ID, help="The task's number."),
    user: str = USER,
    note: str | None = typer.Option(None, "--note", help="What was found or done."),
) -> None:
    """Finish a task one has claimed."""
    from potok.services import tasks

    potok = open_potok()
    try:
        task = tasks.complete_task(cli_uow(potok), task_id, user, note)
    finally:
        potok.close()
    console.print(f"task {task.id} done by {user}")


@app.command("escalate")
@handles_errors
def escalate() -> None:
    """Escalate the tasks whose time is up now (the worker does this on its own)."""
    from potok.services import tasks

    potok = open_potok()
    try:
        found = tasks.escalate_overdue_tasks(cli_uow(potok))
    finally:
        potok.close()
    console.print(f"{len(found)} tasks escalated" + (f": {found}" if found else ""))


@app.command("figures")
@handles_errors
def figures(output: Output = OUTPUT) -> None:
    """Workload and SLA figures per operator."""
    from potok.services import tasks

    potok = open_potok()
    try:
        found = tasks.work_figures(cli_uow(potok))
    finally:
        potok.close()
    rows = [
        {
            "user": o.user,
            "open": o.open,
            "claimed": o.claimed,
            "overdue": o.overdue,
            "done": o.done,
            "done_late": o.done_late,
        }
        for o in found.operators
    ]
    columns = [
        Column("user"),
        Column("open", right=True),
        Column("claimed", right=True),
        Column("overdue", right=True),
        Column("done", right=True),
        Column("done_late", "done late", right=True),
    ]
    print_listing(rows, columns, output, empty="no tasks given out yet")


@app.command("skills")
@handles_errors
def set_skills(
    user: str = typer.Argument(..., help="The operator (a user's name)."),
    skills: str = typer.Argument(
        "", help="What they can do, comma-separated (fraud,en,channel:ozon); empty: none."
    ),
) -> None:
    """Say what an operator can do: queues give them the tasks that need it."""
    from potok.services import tasks

    given = tuple(s.strip() for s in skills.split(",") if s.strip())
    potok = open_potok()
    try:
        operator = tasks.set_operator_skills(cli_uow(potok), user, given)
    finally:
        potok.close()
    console.print(f"{operator.user}: {', '.join(operator.skills) or 'no skills'}")


@app.command("operators")
@handles_errors
def operators(output: Output = OUTPUT) -> None:
    """Every active user with their skills, queues and unfinished tasks."""
    from potok.services import tasks

    potok = open_potok()
    try:
        found = tasks.list_operators(cli_uow(potok))
    finally:
        potok.close()
    rows = [
        {
            "user": o.user,
            "skills": ", ".join(o.skills),
            "queues": ", ".join(o.queues),
            "unfinished": o.unfinished,
        }
        for o in found
    ]
    columns = [
        Column("user"),
        Column("skills"),
        Column("queues"),
        Column("unfinished", right=True),
    ]
    print_listing(rows, columns, output, empty="no active users")
