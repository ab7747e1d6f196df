"""The kernel every layer may use: settings, errors, the shared vocabulary, periods, locks, files and the store.

core imports nothing else in the project. Everything above it (flows, tools, agent, console, bot) may import it.
"""
