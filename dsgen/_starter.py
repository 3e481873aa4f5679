"""The starter spec `dsgen new` writes when no --spec is given: small, realistic, commented."""

from __future__ import annotations

_STARTER = """\
# dsgen spec: the whole app in one file. Edit it, then run `dsgen update`.
# Every key is described by `dsgen schema` (a JSON Schema your editor can use).
dsgen: 1

app:
  name: {name}
  title: {title}
  backend: postgres

stores:
  company:
    fields:
      name: {{type: string, required: true, max: 120}}
      website: url
  contact:
    fields:
      name: {{type: string, required: true, max: 120}}
      email: {{type: email, unique: true}}
      company: {{type: ref, store: company}}
      status: {{type: enum, values: [lead, active, churned], default: lead}}
      score: {{type: int, min: 0, max: 100}}
      notes: text
    indexes:
      - fields: [status]

screens:                      # order = navigation order
  contacts:
    pattern: master-detail
    store: contact
    list: [name, company, status]
    search: [name, email]
  companies:
    pattern: master-detail
    store: company
    search: [name]

signals:
  _ui:                        # leading underscore: client-only chrome
    sidebarOpen: true
"""


def starter_spec(name: str) -> str:
    title = name.replace("_", " ").title()
    return _STARTER.format(name=name, title=title)
