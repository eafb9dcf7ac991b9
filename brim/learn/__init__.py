"""brim.learn"""
