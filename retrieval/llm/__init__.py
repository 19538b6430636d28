"""The language model as a reader: which model, how to reach it, and how to read a yes/no from it.

Used by answers (writer and judge) and change impact (does an announcement make a passage wrong?);
it knows nothing about either.
"""
