"""Operations: cron schedules for named flows (due and missed runs) and debounced alerts to recipient groups.

May import: core, flows.delivery (alerts notify through it).
"""
