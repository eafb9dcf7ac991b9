"""brim.fusion"""
