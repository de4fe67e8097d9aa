"""What `make run` prints under the URL: the demo logins, when the demo is loaded."""
from __future__ import annotations

from sqlalchemy import text


def banner(obj) -> str:
    from gisdesk.demo import taxonomy
    with obj.engine.connect() as conn:
        demo = conn.execute(text("SELECT 1 FROM election WHERE is_demo AND active")).first()
    if not demo:
        return "Log in with an account made by `gisdesk users add NAME --role ROLE`."
    lines = [f"DATA DEMO loaded. Logins (password: {taxonomy.DEMO_PASSWORD}):"]
    for name, (role, _agency, full_name) in taxonomy.USERS.items():
        lines.append(f"  {name:<14} {role:<11} {full_name}")
    return "\n".join(lines)
