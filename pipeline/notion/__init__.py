"""notion"""
