"""brim.thermo"""
