"""A realistic demo store for trying MemberDesk out and for benchmarks (`python main.py demo`)."""

from app.demo.generate import DemoCancelled, DemoOptions, StoreNotEmpty, generate_demo

__all__ = ["DemoCancelled", "DemoOptions", "StoreNotEmpty", "generate_demo"]
